#!/bin/bash
# Session 7: Vocos v5 (voicing head). Lane A: copy-synthesis (24 per group). Lane B: the shipped bundle with v5
# as its vocoder (fp16, like the bundle would carry it) on the 5 dev sets, then speaker wins.
cd /work/main
E=${E:-runs/vocoder/vocos_tiny_v5/export}
N=${N:-vocos5}
B=runs/eval/bundle_$N; rm -rf $B; cp -r models/tiny $B
.venv/bin/python - "$E" "$B" "${U:-1.0}" <<'PY'
import json, sys, torch
from deepasmr.vocoder.vocos import load_vocos, save_vocos
export, bundle, until = sys.argv[1:]
save_vocos(load_vocos(export), bundle + "/vocoder", torch.float16)
meta = json.load(open(bundle + "/bundle.json")); meta["vocoder"] = {"kind": "vocos", "weights": "vocoder"}
json.dump(meta, open(bundle + "/bundle.json", "w"), indent=1)
flow = json.load(open(bundle + "/flow.json")); flow["cfg_until"] = float(until)
json.dump(flow, open(bundle + "/flow.json", "w"), indent=1)
PY
export OMP_NUM_THREADS=1
[ "${COPY:-1}" = 1 ] && (
  .venv/bin/python -m deepasmr.vocoder.measure --corpus corpus/v2 --limit 24 --kind vocos --weights $B/vocoder \
    --json runs/eval/copysynth_$N.json > runs/eval/copysynth_$N.log 2>&1
  echo done > runs/eval/job_r_a_$N.done
) &
(
  B=$B O=runs/eval/dev_$N runs/eval/job_e_dev.sh
  echo done > runs/eval/job_r_b_$N.done
) &
wait
