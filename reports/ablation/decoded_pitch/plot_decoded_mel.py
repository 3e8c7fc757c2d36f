"""Picture for the decoded-pitch probe: one held-out normal utterance's log-mel below 1.5 kHz, ground truth
against the shipped decoder's reconstruction from the same tokens (another utterance of the speaker as prompt).
(session 26; run from the repository root) python plot_decoded_mel.py KEY OUT.png [STEPS]"""
import json
import sys

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from deepasmr.audio import load_audio  # noqa: E402
from deepasmr.pipeline.engine import DeepASMR  # noqa: E402

TESTSET = "corpus/v2/testsets_dev/EN_N2N_testset.json"


def main() -> None:
    key, out = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else None
    torch.set_num_threads(1)
    model = DeepASMR.load()
    flow, cfg = model.bundle.flow, model.bundle.mel_config
    with open(TESTSET) as f:
        entry = next(e for e in json.load(f) if e["key"] == key)
    gt, _ = load_audio("corpus/v2/" + entry["ground_truth"], cfg.sample_rate)
    prompt, _ = load_audio("corpus/v2/" + entry["prompt_audio"], cfg.sample_rate)
    gt_mel, tokens = model.mel_tokens(gt, crop=False)
    p_mel, p_tokens = model.mel_tokens(prompt)
    decoded = flow.generate(tokens, p_mel, p_tokens, None, seed=0, steps=steps,
                            cfg_strength=flow.cfg.cfg_strength_for("normal"),
                            noise_scale=flow.cfg.noise_scale_for("normal"))
    low = int((librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax) < 1500).sum())
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    panels = (("ground truth", gt_mel), (f"decoded from its tokens, {steps or flow.cfg.steps} steps", decoded))
    for ax, (name, mel) in zip(axes, panels, strict=True):
        ax.imshow(torch.as_tensor(mel)[:low].numpy(), origin="lower", aspect="auto", cmap="magma", vmin=-11, vmax=1)
        ax.set_title(f"{entry['ground_truth'].split('/')[-1]}: {name} (mel bins below 1.5 kHz)")
        ax.set_ylabel("mel bin")
    axes[-1].set_xlabel("frame (86 per s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
