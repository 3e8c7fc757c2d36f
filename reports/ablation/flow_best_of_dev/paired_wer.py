"""Paired per-entry comparison of two eval-model folders: capped WER, PER, SIM->GT, bootstrap 95 % CIs."""
import json
import sys

import numpy as np


def load(d):
    with open(f"{d}/eval.json") as f:
        e = json.load(f)[0]
    return {u["key"]: u["generated_metrics"] for u in e["utterances"] if u.get("generated_metrics")}
a, b = load(sys.argv[1]), load(sys.argv[2])
keys = [k for k in a if k in b]
def arr(m, f): return np.array([float(m[k][f]) for k in keys])
n = arr(a, "n_ref")
npn = arr(a, "n_ref_phones")
rng = np.random.default_rng(0)
idx = rng.integers(0, len(keys), (10000, len(keys)))
for name, f, den in [("WER capped", "errors_capped", n), ("PER", "phone_errors", npn)]:
    ea, eb = arr(a, f), arr(b, f)
    d = (eb[idx].sum(1) - ea[idx].sum(1)) / den[idx].sum(1) * 100
    print(f"{name}: {ea.sum()/den.sum()*100:.1f} -> {eb.sum()/den.sum()*100:.1f} %, "
          f"diff {(eb.sum()-ea.sum())/den.sum()*100:+.1f} [{np.percentile(d,2.5):+.1f}, {np.percentile(d,97.5):+.1f}]; "
          f"entries better {int((eb<ea).sum())} worse {int((eb>ea).sum())}")
sa, sb = arr(a, "sim_to_ground_truth"), arr(b, "sim_to_ground_truth")
d = (sb - sa)[idx].mean(1)
print(f"SIM->GT: {sa.mean():.3f} -> {sb.mean():.3f}, diff {(sb-sa).mean():+.3f} "
      f"[{np.percentile(d,2.5):+.3f}, {np.percentile(d,97.5):+.3f}], better {int((sb>sa).sum())}/{len(keys)}")
