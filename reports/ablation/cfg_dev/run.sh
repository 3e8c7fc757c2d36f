#!/bin/bash
# Per-entry SIM->GT of the dev outputs with guidance 0.7 (a) against no guidance (b), Vocos v5 bundle.
# Outputs made by ../vocos5_dev/run.sh (U=1.0 -> runs/eval/dev_vocos5, U=0.0 -> runs/eval/dev_vocos5_cfg0).
for s in EN_N2A EN_A2N EN_N2N ZH_N2A ZH_N2N; do
  .venv/bin/python -m deepasmr.eval.paired --testset runs/eval/dev_vocos5/e2e/$s/testset.json --audio-root corpus/v2 \
    --a runs/eval/dev_vocos5/e2e/$s --b runs/eval/dev_vocos5_cfg0/e2e/$s --json reports/ablation/cfg_dev/paired_cfg07_vs_cfg0_$s.json
done
