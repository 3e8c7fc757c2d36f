#!/bin/bash
# Session 7, second round: the shipped bundle (Vocos v5 vocoder, guidance 0.7 in both styles again) on the TEST speakers,
# scored after the dev choice. Lane A: EN 12 per task -> reports/e2e, then EN N2A 48 entries paired with the
# HiFi-GAN bundle's 48 (runs/eval/pool48/virtual). Lane B: ZH 8 per task -> reports/e2e_zh.
cd /work/main
D=.venv/bin/deepasmr
T=corpus/v2/testsets
export OMP_NUM_THREADS=1
O=runs/eval/test_v5g
( $D eval-model --audio-root corpus/v2 --out reports/e2e --limit 12 --workers 1 --force \
    --testset $T/EN_N2A_testset.json --testset $T/EN_A2A_testset.json --testset $T/EN_A2N_testset.json \
    --testset $T/EN_N2N_testset.json > $O.e2e_en.log 2>&1
  .venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
    --generated reports/e2e/EN_N2A --json reports/e2e/EN_N2A_speaker_wins.json > $O.wins12.log 2>&1
  $D eval-model --audio-root corpus/v2 --out $O/en48 --limit 48 --workers 1 --force \
    --testset $T/EN_N2A_testset.json > $O.en48.log 2>&1
  .venv/bin/python -m deepasmr.eval.speaker_wins --testset $T/EN_N2A_testset.json --audio-root corpus/v2 \
    --generated $O/en48/EN_N2A --json $O/en48/EN_N2A_speaker_wins.json > $O.wins48.log 2>&1
  .venv/bin/python -m deepasmr.eval.paired --testset $O/en48/EN_N2A/testset.json --audio-root corpus/v2 \
    --a runs/eval/pool48/virtual/EN_N2A --b $O/en48/EN_N2A --json $O/en48/paired_hifigan_vs_shipped.json > $O.paired.log 2>&1
  echo done > $O.a.done ) &
( $D eval-model --audio-root corpus/v2 --out reports/e2e_zh --limit 8 --workers 1 --force \
    --testset $T/ZH_N2A_testset.json --testset $T/ZH_A2A_testset.json --testset $T/ZH_A2N_testset.json \
    --testset $T/ZH_N2N_testset.json > $O.e2e_zh.log 2>&1
  echo done > $O.b.done ) &
wait
.venv/bin/python -m deepasmr.flow.evaluate --flow models/tiny --shards runs/shards/v2 --corpus corpus/v2 --split test \
  --per-group 8 --per-speaker 2 --vocos models/tiny/vocoder --threads 2 --json runs/eval/flow_v2_vocos5g_eval.json \
  > runs/eval/flow_v2_vocos5g_eval.log 2>&1
echo done > runs/eval/job_v.done
