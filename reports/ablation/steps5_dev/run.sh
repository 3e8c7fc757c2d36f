#!/bin/bash
# Session 6: flow ODE steps 5 (vs the shipped 10, runs/eval/dev_v2) on corpus/v2 DEV, shipped bundle, 1 thread.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets_dev
export OMP_NUM_THREADS=1
O=runs/eval/dev_steps5
$D eval-model --audio-root corpus/v2 --out $O/e2e --limit 12 --workers 1 --model models/tiny --force --steps 5 \
  --testset $T/EN_N2A_testset.json --testset $T/EN_A2N_testset.json --testset $T/EN_N2N_testset.json \
  --testset $T/ZH_N2A_testset.json --testset $T/ZH_N2N_testset.json > $O.log 2>&1
.venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
  --generated $O/e2e/EN_N2A --json $O/e2e/EN_N2A_speaker_wins.json > $O.wins.log 2>&1
echo done > $O.done
