"""From single-seed runs s0..s3 and the K=4 run's logged scores: WER/SIM of best-of-K by CTC reading,
and by WER (oracle)."""
import json

import numpy as np

runs = ["runs/fb_dev_k1", "runs/fb_dev_s1", "runs/fb_dev_s2", "runs/fb_dev_s3"]
def load(d):
    with open(f"{d}/eval.json") as f:
        e = json.load(f)[0]
    return {u["key"]: u["generated_metrics"] for u in e["utterances"]}
ms = [load(r) for r in runs]
with open("runs/fb_dev_k4.jsonl") as f:
    log = [json.loads(line) for line in f]
keys = sorted(ms[0], key=int)
# log lines are in synthesis order; entry key -> seed (seed 0 + i? eval seeds per entry)
print(len(log), len(keys))
n = sum(float(ms[0][k]["n_ref"]) for k in keys)
for K in (1, 2, 3, 4):
    err = sim = 0
    oerr = 0
    for k, rec in zip(keys, log, strict=False):  # lengths are only printed above, not checked
        sc = rec["scores"][:K]
        c = min(range(K), key=lambda j: (sc[j], j))
        err += float(ms[c][k]["errors_capped"])
        sim += float(ms[c][k]["sim_to_ground_truth"])
        oerr += min(float(ms[j][k]["errors_capped"]) for j in range(K))
    print(f"K={K}: CTC-chosen WER {err/n*100:.1f} %, SIM {sim/len(keys):.3f}; oracle-by-WER {oerr/n*100:.1f} %")
for j, m in enumerate(ms):
    seed_wer = sum(float(m[k]["errors_capped"]) for k in keys) / n * 100
    seed_sim = np.mean([float(m[k]["sim_to_ground_truth"]) for k in keys])
    print(j, f"WER {seed_wer:.1f}", f"SIM {seed_sim:.3f}")
