#!/bin/bash
# Session 6: N2A with 5 flow steps on the TEST speakers (report, after the dev choice): EN 48 entries (same as
# pool48_virtual, 10 steps), ZH 8 entries (same as reports/e2e_zh). Two 1-thread lanes.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
O=runs/eval/test_steps5
( $D eval-model --audio-root corpus/v2 --out $O/en --limit 48 --workers 1 --force --steps 5 \
    --testset $T/EN_N2A_testset.json > $O.en.log 2>&1
  .venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
    --generated $O/en/EN_N2A --json $O/en/EN_N2A_speaker_wins.json > $O.wins.log 2>&1
  .venv/bin/python -m deepasmr.eval.paired --testset $O/en/EN_N2A/testset.json --audio-root corpus/v2 \
    --a runs/eval/pool48/virtual/EN_N2A --b $O/en/EN_N2A --json $O/en/paired_steps10_vs_steps5.json > $O.paired.log 2>&1
  echo done > $O.en.done ) &
( $D eval-model --audio-root corpus/v2 --out $O/zh --limit 8 --workers 1 --force --steps 5 \
    --testset $T/ZH_N2A_testset.json > $O.zh.log 2>&1; echo done > $O.zh.done ) &
wait
