"""Probe: guidance on the phones. PHONE_W (extra term weight, vs the phones-null branch), FULL_W (the usual null term,
default the config's). v = v_c + FULL_W (v_c - v_null) + PHONE_W (v_c - v_nophones).
Run against commit 6ef8575 (before FlowConfig.phone_cfg_strength; from then on `--phone-guidance W` does the
3-branch form): `python probe_phone_cfg.py eval-model ...` with PHONE_W / FULL_W / PHONE_UNTIL in the environment.
FULL_W=0 gives the two-branch form without the null term ("*_only" folders); PHONE_UNTIL=0.3 the phone term on
the steps starting before t = 0.3 only ("*_u03").
"""
import os
import sys

import torch

import deepasmr.flow.sampling as fs

PW = float(os.environ.get("PHONE_W", "0.5"))
FW = os.environ.get("FULL_W") or None
orig = fs.guided_velocity
def guided(velocity, x, cond_mel, ids, null_ids, t, mask, spk, cfg_strength, batched=True, phones=None):
    w = cfg_strength if FW is None else (float(FW) if cfg_strength else 0.0)
    if phones is None or cfg_strength == 0 or float(t[0]) >= float(os.environ.get("PHONE_UNTIL", "2")):
        return orig(velocity, x, cond_mel, ids, null_ids, t, mask, spk, cfg_strength, batched, phones)
    ph, null_ph = phones
    if w == 0:  # two branches: conditional and phones-null only
        v = velocity(torch.cat([x, x]), torch.cat([cond_mel, cond_mel]), torch.cat([ids, ids]), torch.cat([t, t]),
                     torch.cat([mask, mask]), None if spk is None else torch.cat([spk, spk]),
                     phone_ids=torch.cat([ph, null_ph]))
        vc, vp = v.chunk(2)
        return vc + PW * (vc - vp)
    v = velocity(torch.cat([x, x, x]), torch.cat([cond_mel, torch.zeros_like(cond_mel), cond_mel]),
                 torch.cat([ids, null_ids, ids]), torch.cat([t, t, t]), torch.cat([mask, mask, mask]),
                 None if spk is None else torch.cat([spk, torch.zeros_like(spk), spk]),
                 phone_ids=torch.cat([ph, null_ph, null_ph]))
    vc, vn, vp = v.chunk(3)
    return vc + w * (vc - vn) + PW * (vc - vp)
fs.guided_velocity = guided

# Imported last, on purpose: the patch above is installed before the CLI is loaded.
from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
