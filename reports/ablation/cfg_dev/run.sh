#!/bin/bash
# Per-entry SIM->GT of the dev outputs with guidance 0.7 (a) against no guidance (b), Vocos v5 bundle.
# Outputs made by ../vocos5_dev/run.sh (U=1.0 -> runs/eval/dev_vocos5, U=0.0 -> runs/eval/dev_vocos5_cfg0).
for s in EN_N2A EN_A2N EN_N2N ZH_N2A ZH_N2N; do
  .venv/bin/python -m deepasmr.eval.paired --testset runs/eval/dev_vocos5/e2e/$s/testset.json --audio-root corpus/v2 \
    --a runs/eval/dev_vocos5/e2e/$s --b runs/eval/dev_vocos5_cfg0/e2e/$s --json reports/ablation/cfg_dev/paired_cfg07_vs_cfg0_$s.json
done
# The decoder alone (real tokens) on the dev speakers through the v5 Vocos, whisper unguided vs guided (0.7):
for C in 0.0 0.7; do
  .venv/bin/python -m deepasmr.flow.evaluate --flow models/tiny --shards runs/shards/v2 --corpus corpus/v2 --split dev \
    --per-group 8 --per-speaker 3 --vocos models/tiny/vocoder --threads 1 $( [ $C = 0.7 ] && echo --cfg-strength 0.7 ) \
    --json runs/eval/flow_dev_vocos5_asmrcfg$C.json   # with models/tiny/flow.json asmr_cfg_strength 0 at the time
done
