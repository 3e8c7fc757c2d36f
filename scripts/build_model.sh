#!/usr/bin/env bash
# Rebuilds the embedded default bundle models/tiny from nothing but this repository (`make model`).
# Every step is resumable: rerun the script after an interruption and finished steps are skipped.
#   The LM and decoder first learn on the first tokenizer's codes, then move onto the v3 tokenizer's (trained on
#   from the first one). TOKENIZER=reuse (default) takes the first tokenizer from git history (commit d0af530);
#   TOKENIZER=train retrains it on corpus/v1 (configs/tokenizer_v1.yaml, ~1 h on one core).
# Shards skip speaker embeddings (the tiny flow has use_spk_emb=False; they triple extraction time).
# On 2 CPU cores the long steps (LM, flow) run side by side, one thread each: ~200 min on corpus/v1, then
# ~115 min fine-tuning both on corpus/v2 (10 h, the same speakers and splits; ~45 min to synthesise and shard).
# The v3 tokenizer (~35 min at 2 threads with bf16) and its shards (~10 min) come first; ~135 min of both on its codes last.
# A third lane trains the Vocos vocoder on corpus/v2 (~2.8 h at one thread on its own: v2, v4, PYIN labels, v5).
# Then the normal-speech path (~90 min): F0 labels (~12 min), the F0 predictor (~4 min), and side by side the
# decoder told F0 (65 min) and the Vocos that follows it (75 min).
set -euo pipefail
cd "$(dirname "$0")/.."
D=.venv/bin/deepasmr
CORPUS=corpus/v1
SHARDS=runs/shards/v1
CORPUS2=corpus/v2
SHARDS2=runs/shards/v2
SHARDS3=runs/shards/v3
BUNDLE=models/tiny
TOK0=runs/tokenizer/shipped_v0
mkdir -p runs/logs

$D data synth --out $CORPUS --hours 3 --seed 0 --jobs 2
$D data testsets --corpus $CORPUS --out $CORPUS/testsets
$D data synth --out $CORPUS2 --hours 10 --seed 0 --jobs 2
$D data testsets --corpus $CORPUS2 --out $CORPUS2/testsets
$D data testsets --corpus $CORPUS2 --out $CORPUS2/testsets_dev --split dev

mkdir -p $TOK0
if [ "${TOKENIZER:-reuse}" = train ]; then
  resume=""; [ -d runs/tokenizer/v1/checkpoints ] && resume="--resume"
  $D train tokenizer --config configs/tokenizer_v1.yaml $resume
  cp runs/tokenizer/v1/export/tokenizer.* $TOK0/
else
  for f in tokenizer.json tokenizer.safetensors; do git show "d0af530:models/tiny/$f" > "$TOK0/$f"; done
fi
[ -f $SHARDS/index.jsonl ] && [ -z "$(find $TOK0/tokenizer.safetensors -newer $SHARDS/index.jsonl)" ] \
  || $D tokenize --model $TOK0 --manifest $CORPUS/manifest.jsonl --out-shards $SHARDS --no-speaker
[ -f $SHARDS2/index.jsonl ] && [ -z "$(find $TOK0/tokenizer.safetensors -newer $SHARDS2/index.jsonl)" ] \
  || $D tokenize --model $TOK0 --manifest $CORPUS2/manifest.jsonl --out-shards $SHARDS2 --no-speaker

train() {  # stage config [--set ...]: train (or resume) in the background, logging to runs/logs/<config name>.log
  local stage=$1 config=$2; shift 2
  local out; out=$($D train "$stage" --config "$config" --print-config | awk '/out_dir:/{print $2; exit}')
  local resume=""; [ -d "$out/checkpoints" ] && resume="--resume"
  $D train "$stage" --config "$config" $resume "$@" >> "runs/logs/$(basename "$config" .yaml).log" 2>&1 &
}
lm_phases() {  # corpus/v1: cross-entropy, then guided attention; fine-tuned on corpus/v2, on v3 codes, text pointer
  train lm configs/lm_tiny_v1.yaml; wait
  train lm configs/lm_tiny_v1_guided.yaml; wait
  train lm configs/lm_tiny_v2.yaml; wait
  train lm configs/lm_tiny_v3.yaml; wait
  # The text pointer (lm.pointer), from v3's export (the config names models/tiny, the bundle's copy of it).
  train lm configs/lm_tiny_v7.yaml --set init_from=runs/lm/tiny_v3/export \
    --set data.alignment_tokenizer=runs/tokenizer/v3/export; wait
}
flow_phases() {  # corpus/v1, then fine-tuned on corpus/v2, then on v3 codes, then told the phones
  train flow configs/flow_tiny_v1.yaml; wait
  train flow configs/flow_tiny_v2.yaml; wait
  train flow configs/flow_tiny_v3.yaml; wait
  # The phone table (FlowConfig.phone_vocab), from v3's export (the config names models/tiny, the bundle's copy).
  train flow configs/flow_tiny_v4.yaml --set init_from=runs/flow/tiny_v3/export \
    --set data.alignment_tokenizer=runs/tokenizer/v3/export; wait
  # 1,600 more steps of the same (the shipped decoder, session 18).
  train flow configs/flow_tiny_v5.yaml --set init_from=runs/flow/tiny_v4/export \
    --set data.alignment_tokenizer=runs/tokenizer/v3/export; wait
}
vocoder_phases() {  # Vocos: v2 from scratch (its step 4,000 = end of reconstruction), v4 told the style, v5 voicing head
  local v2=runs/vocoder/vocos_tiny_v2 v4=runs/vocoder/vocos_tiny_v4
  train vocoder configs/vocoder_vocos_tiny_v2.yaml --set trainer.keep_checkpoints=-1; wait
  [ -d $v2/export_step4000 ] || $D train vocoder --config configs/vocoder_vocos_tiny_v2.yaml \
    --export-from $v2/checkpoints/step00004000.ckpt --export-to $v2/export_step4000
  train vocoder configs/vocoder_vocos_tiny_v4.yaml; wait  # 1,500 steps, then on to 3,500 (cosine restretched)
  train vocoder configs/vocoder_vocos_tiny_v4.yaml --set trainer.max_steps=3500 --set trainer.max_minutes=48; wait
  [ -d $v4/export_step3500 ] || cp -r $v4/export $v4/export_step3500
  [ -f runs/vocoder/voicing_v2.safetensors ] || .venv/bin/python -m deepasmr.vocoder.voicing \
    --manifest $CORPUS2/manifest.jsonl --out runs/vocoder/voicing_v2.safetensors --per-group 400 --workers 2
  train vocoder configs/vocoder_vocos_tiny_v5.yaml; wait
}
normal_speech_phases() {  # after the lanes: F0 labels, the F0 predictor, the decoder told F0, the Vocos that follows F0
  local py=.venv/bin/python
  [ -f runs/flow/pitch_world_v2.safetensors ] || $py -m deepasmr.vocoder.voicing --manifest $CORPUS2/manifest.jsonl \
    --out runs/flow/pitch_world_v2.safetensors --splits train dev test --tracker world --workers 2
  [ -f runs/vocoder/voicing_f0_v2.safetensors ] || $py -m deepasmr.vocoder.voicing \
    --manifest $CORPUS2/manifest.jsonl --out runs/vocoder/voicing_f0_v2.safetensors --per-group 400 --workers 2
  train pitch configs/pitch_tiny.yaml; wait
  $py -m deepasmr.pitch.calibrate --model runs/pitch/tiny/export --shards $SHARDS3 \
    --pyin-labels runs/vocoder/voicing_f0_v2.safetensors
  # Both configs name models/tiny (what they started from in session 26-27): here, the same weights from runs/.
  train flow configs/flow_tiny_v7.yaml --set init_from=runs/flow/tiny_v5/export \
    --set data.alignment_tokenizer=runs/tokenizer/v3/export &
  train vocoder configs/vocoder_vocos_tiny_v7.yaml --set model.init_weights=runs/vocoder/vocos_tiny_v5/export &
  wait
}
# The v3 tokenizer (warm-started from the first) and corpus/v2 in its codes, before the lanes: it needs only
# corpus/v2, and the last LM and decoder phases train on its shards.
[ -f runs/tokenizer/v3/export/tokenizer.safetensors ] || { train tokenizer configs/tokenizer_v3.yaml; wait; }
[ -f $SHARDS3/index.jsonl ] || $D tokenize --model runs/tokenizer/v3/export --manifest $CORPUS2/manifest.jsonl \
  --out-shards $SHARDS3 --no-speaker
lm_phases &
flow_phases &
vocoder_phases &
wait
normal_speech_phases

cp runs/tokenizer/v3/export/tokenizer.* runs/lm/tiny_v7/export/lm.* runs/flow/tiny_v5/export/flow.* $BUNDLE/
$D pool tokens $BUNDLE/pools --tokenizer $BUNDLE  # the pools' task prompts in the shipped tokenizer's codes
# The vocoder travels in the bundle at half precision (5.7 MB; it runs in fp32 after loading).
.venv/bin/python -c "import sys, torch; from deepasmr.vocoder.vocos import load_vocos, save_vocos; \
save_vocos(load_vocos(sys.argv[1]), sys.argv[2], torch.float16)" runs/vocoder/vocos_tiny_v5/export $BUNDLE/vocoder
# Normal-style output: its own decoder (int8), the F0 predictor and the Vocos that follows F0 (session 29).
.venv/bin/python scripts/add_normal_decoder.py --bundle $BUNDLE --flow runs/flow/tiny_v7/export \
  --pitch runs/pitch/tiny/export --vocos runs/vocoder/vocos_tiny_v7/export
.venv/bin/python scripts/write_bundle_record.py --bundle $BUNDLE --corpus $CORPUS2 \
  --run runs/tokenizer/v3 --run runs/lm/tiny_v1 --run runs/lm/tiny_v1_guided --run runs/lm/tiny_v2 --run runs/lm/tiny_v3 \
  --run runs/lm/tiny_v7 \
  --run runs/flow/tiny_v1 --run runs/flow/tiny_v2 --run runs/flow/tiny_v3 --run runs/flow/tiny_v4 --run runs/flow/tiny_v5 \
  --run runs/vocoder/vocos_tiny_v2 --run runs/vocoder/vocos_tiny_v4 --run runs/vocoder/vocos_tiny_v5 \
  --run runs/pitch/tiny --run runs/flow/tiny_v7 --run runs/vocoder/vocos_tiny_v7 \
  --vocos vocoder --vocos-normal vocoder_normal
echo "bundle $BUNDLE rebuilt; evaluate it with: make eval"
