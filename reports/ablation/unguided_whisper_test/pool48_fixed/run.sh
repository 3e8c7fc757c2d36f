#!/bin/bash
# Session 7: the pool ablation again with the shipped bundle (Vocos v5, whisper without guidance): the fixed
# ASMR prompt on the same 48 EN N2A test entries as runs/eval/test_v5/en48 (virtual pool), entry by entry.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
O=runs/eval/test_v5
FIX=models/tiny/pools/asmr/clips/$(ls models/tiny/pools/asmr/clips | head -1)
FIXTEXT=$(.venv/bin/python -c "
import json,sys; rows=[json.loads(l) for l in open('models/tiny/pools/asmr/entries.jsonl')]
name=sys.argv[1].rsplit('/',1)[1]; print([r for r in rows if r.get('audio','').endswith(name)][0]['text'])" $FIX)
$D eval-model --audio-root corpus/v2 --out $O/fixed48 --limit 48 --workers 1 --selection fixed --force \
  --fixed-prompt $FIX --fixed-prompt-text "$FIXTEXT" --testset $T/EN_N2A_testset.json > $O.fixed48.log 2>&1
.venv/bin/python -m deepasmr.eval.paired --testset $O/en48/EN_N2A/testset.json --audio-root corpus/v2 \
  --a $O/fixed48/EN_N2A --b $O/en48/EN_N2A --json $O/fixed48/paired_fixed_vs_virtual.json > $O.fixed48.paired.log 2>&1
echo done > $O.fixed48.done
