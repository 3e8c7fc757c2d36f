#!/bin/bash
# cfg_until (guidance on the ODE steps that start before it) lived in FlowConfig at commit 7d3370f; it was
# removed after this run: 0.3 tied, and no guidance at all (0.0) is what FlowConfig.asmr_cfg_strength = 0 now does.
# Session 7: guidance only on the early flow steps (FlowConfig.cfg_until) on the dev speakers, against the
# same bundle with full guidance (runs/eval/dev_vocos4b_*: Vocos v4 step 3,500), entry by entry.
cd /work/main
U=${U:-0.3}
B=runs/eval/bundle_cfg$U; rm -rf $B; cp -r runs/eval/bundle_vocos4b $B
.venv/bin/python - "$B" "$U" <<'PY'
import json, sys
path = sys.argv[1] + "/flow.json"
cfg = json.load(open(path)); cfg["cfg_until"] = float(sys.argv[2])
json.dump(cfg, open(path, "w"), indent=1)
PY
export OMP_NUM_THREADS=1
T=corpus/v2/testsets_dev
O=runs/eval/dev_cfg$U
for L in EN ZH; do
  .venv/bin/deepasmr eval-model --audio-root corpus/v2 --out ${O}_$L --limit 12 --workers 1 --model $B --force \
    --testset $T/${L}_N2A_testset.json > ${O}_$L.log 2>&1
  .venv/bin/python -m deepasmr.eval.paired --testset ${O}_$L/${L}_N2A/testset.json --audio-root corpus/v2 \
    --a runs/eval/dev_vocos4b_$L/${L}_N2A --b ${O}_$L/${L}_N2A --json ${O}_$L/paired_full_vs_cfg$U.json > ${O}_$L.paired.log 2>&1
done
echo done > $O.done
