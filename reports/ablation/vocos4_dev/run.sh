#!/bin/bash
# Session 6: the shipped bundle with the style-told Vocos (v4) instead of HiFi-GAN: dev (decision, all 5 sets)
# and test EN N2A 48 entries paired with the HiFi-GAN outputs (same LM tokens, same flow), two 1-thread lanes.
cd /work/main
E=${E:-runs/vocoder/vocos_tiny_v4/export}
B=runs/eval/bundle_vocos4; rm -rf $B; cp -r models/tiny $B
mkdir -p $B/vocoder && cp $E/vocos.json $E/vocos.safetensors $B/vocoder/
.venv/bin/python - "$B" <<'PY'
import json, sys
path = sys.argv[1] + "/bundle.json"
meta = json.load(open(path)); meta["vocoder"] = {"kind": "vocos", "weights": "vocoder"}
json.dump(meta, open(path, "w"), indent=1)
PY
export OMP_NUM_THREADS=1
T=corpus/v2/testsets
(
  B=$B O=runs/eval/dev_vocos4 runs/eval/job_e_dev.sh
  echo done > runs/eval/job_p_a.done
) &
(
  O=runs/eval/test_vocos4
  .venv/bin/deepasmr eval-model --audio-root corpus/v2 --out $O/en --limit 48 --workers 1 --force --model $B \
    --testset $T/EN_N2A_testset.json > $O.en.log 2>&1
  .venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
    --generated $O/en/EN_N2A --json $O/en/EN_N2A_speaker_wins.json > $O.wins.log 2>&1
  .venv/bin/python -m deepasmr.eval.paired --testset $O/en/EN_N2A/testset.json --audio-root corpus/v2 \
    --a runs/eval/pool48/virtual/EN_N2A --b $O/en/EN_N2A --json $O/en/paired_hifigan_vs_vocos4.json > $O.paired.log 2>&1
  echo done > runs/eval/job_p_b.done
) &
wait
