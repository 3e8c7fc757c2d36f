#!/bin/bash
# Session 4: a bundle on corpus/v2's DEV speakers (the ship decision is made here, not on test).
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets_dev
B=${B:-runs/eval/bundle_v1}
O=${O:-runs/eval/dev_v1}
$D eval-model --audio-root corpus/v2 --out $O/e2e --limit 12 --workers 1 --model $B --force \
  --testset $T/EN_N2A_testset.json --testset $T/EN_A2N_testset.json --testset $T/EN_N2N_testset.json \
  --testset $T/ZH_N2A_testset.json --testset $T/ZH_N2N_testset.json > $O.log 2>&1
.venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
  --generated $O/e2e/EN_N2A --json $O/e2e/EN_N2A_speaker_wins.json > $O.wins.log 2>&1
echo done > $O.done
