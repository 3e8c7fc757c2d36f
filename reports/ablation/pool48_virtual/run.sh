#!/bin/bash
# Session 6: the pool ablation (Table III direction) on 48 EN N2A test entries instead of 12: virtual pool vs the
# fixed prompt, same entries, shipped bundle, 1 thread; then speaker wins on the 48 virtual outputs.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
O=runs/eval/pool48  # the figures were copied to reports/ablation/pool48_{virtual,fixed} (wavs stay out of git)
FIX=models/tiny/pools/asmr/clips/$(ls models/tiny/pools/asmr/clips | head -1)
FIXTEXT=$(.venv/bin/python -c "
import json,sys; rows=[json.loads(l) for l in open('models/tiny/pools/asmr/entries.jsonl')]
name=sys.argv[1].rsplit('/',1)[1]; print([r for r in rows if r.get('audio','').endswith(name)][0]['text'])" $FIX)
$D eval-model --audio-root corpus/v2 --out $O/virtual --limit 48 --workers 1 --force \
  --testset $T/EN_N2A_testset.json > $O.virtual.log 2>&1
.venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
  --generated $O/virtual/EN_N2A --json $O/virtual/EN_N2A_speaker_wins.json > $O.wins.log 2>&1
$D eval-model --audio-root corpus/v2 --out $O/fixed --limit 48 --workers 1 --selection fixed --force \
  --fixed-prompt $FIX --fixed-prompt-text "$FIXTEXT" --testset $T/EN_N2A_testset.json > $O.fixed.log 2>&1
echo done > $O.done
.venv/bin/python -m deepasmr.eval.paired --testset $O/virtual/EN_N2A/testset.json --audio-root corpus/v2 \
  --a $O/fixed/EN_N2A --b $O/virtual/EN_N2A --json $O/paired_fixed_vs_virtual.json
