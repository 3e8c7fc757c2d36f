#!/bin/sh
# Evaluation bundles for the decoder told F0 (session 27), built from the shipped models/tiny:
#   runs/bundle_f0       the v7 decoder (configs/flow_tiny_v7.yaml) + the F0 predictor (configs/pitch_tiny.yaml),
#                        the shipped Vocos v5;
#   runs/bundle_f0_voc7  the same with the pitch-following Vocos v7 (configs/vocoder_vocos_tiny_v7.yaml).
# The decoder keeps the shipped decoder's inference settings (steps, guidance, noise).
# Run from the repository root: sh reports/ablation/pitch_told_decoder/make_bundles.sh
set -e
FLOW=${FLOW:-runs/flow/tiny_v7/export}
PITCH=${PITCH:-runs/pitch/tiny/export}
VOCOS7=${VOCOS7:-runs/vocoder/vocos_tiny_v7/export}
PY=${PY:-.venv/bin/python}
for pair in "runs/bundle_f0 models/tiny/vocoder" "runs/bundle_f0_voc7 $VOCOS7"; do
  set -- $pair
  rm -rf "$1"
  cp -r models/tiny "$1"
  cp "$2"/vocos.json "$2"/vocos.safetensors "$1/vocoder/"
  cp "$FLOW/flow.safetensors" "$PITCH/pitch.json" "$PITCH/pitch.safetensors" "$1/"
  $PY - "$FLOW/flow.json" models/tiny/flow.json "$1/flow.json" <<'PYEOF'
import json, sys
trained, shipped, out = sys.argv[1:]
cfg = json.load(open(trained))
knobs = ("steps", "cfg_strength", "asmr_cfg_strength", "cfg_until", "phone_cfg_strength", "sway_coef",
         "noise_scale", "normal_noise_scale")
cfg.update({k: v for k, v in json.load(open(shipped)).items() if k in knobs})
json.dump(cfg, open(out, "w"), indent=1)
PYEOF
  echo "$1"
done
