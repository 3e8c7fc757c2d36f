#!/bin/bash
# The previous bundle's test outputs (HiFi-GAN, guidance 0.7 everywhere; runs/eval/test_v2, made by `make eval`
# before session 7) against the shipped bundle's (reports/e2e, reports/e2e_zh), entry by entry.
for s in EN_N2A EN_A2A EN_A2N EN_N2N; do
  .venv/bin/python -m deepasmr.eval.paired --testset reports/e2e/$s/testset.json --audio-root corpus/v2 \
    --a runs/eval/test_v2/e2e/$s --b reports/e2e/$s --json reports/ablation/hifigan_bundle_test/paired_previous_vs_shipped_$s.json
done
for s in ZH_N2A ZH_A2N ZH_N2N; do
  .venv/bin/python -m deepasmr.eval.paired --testset reports/e2e_zh/$s/testset.json --audio-root corpus/v2 \
    --a runs/eval/test_v2/e2e_zh/$s --b reports/e2e_zh/$s --json reports/ablation/hifigan_bundle_test/paired_previous_vs_shipped_$s.json
done
# Mandarin N2A split into its two steps (per-speaker means of per_entry in the README): the vocoder change with
# guidance on (runs/eval/test_vocos4b_zh: Vocos v4 step 3,500, session 6), then v4 with guidance -> the shipped.
.venv/bin/python -m deepasmr.eval.paired --testset reports/e2e_zh/ZH_N2A/testset.json --audio-root corpus/v2 \
  --a runs/eval/test_v2/e2e_zh/ZH_N2A --b runs/eval/test_vocos4b_zh/ZH_N2A \
  --json reports/ablation/hifigan_bundle_test/paired_ZH_N2A_hifigan_vs_vocos4_guided.json
.venv/bin/python -m deepasmr.eval.paired --testset reports/e2e_zh/ZH_N2A/testset.json --audio-root corpus/v2 \
  --a runs/eval/test_vocos4b_zh/ZH_N2A --b reports/e2e_zh/ZH_N2A \
  --json reports/ablation/hifigan_bundle_test/paired_ZH_N2A_vocos4_guided_vs_shipped.json
