"""Picture for the decoded-pitch probe: one held-out normal utterance's log-mel below 1.5 kHz, ground truth
against the shipped decoder's reconstruction from the same tokens (another utterance of the speaker as prompt),
and, given a decoder told F0 and an F0 predictor (session 27), that decoder's from the same tokens and the
predictor's F0 around the prompt's register. (session 26; run from the repository root)

    python plot_decoded_mel.py KEY OUT.png [STEPS] [FLOW_DIR PITCH_DIR]
"""
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
    steps = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    told = sys.argv[4:6] if len(sys.argv) > 5 else None
    torch.set_num_threads(1)
    model = DeepASMR.load()
    flow, cfg = model.bundle.flow, model.bundle.mel_config
    with open(TESTSET) as f:
        entry = next(e for e in json.load(f) if e["key"] == key)
    gt, _ = load_audio("corpus/v2/" + entry["ground_truth"], cfg.sample_rate)
    prompt, _ = load_audio("corpus/v2/" + entry["prompt_audio"], cfg.sample_rate)
    gt_mel, tokens = model.mel_tokens(gt, crop=False)
    p_mel, p_tokens = model.mel_tokens(prompt)
    kw = dict(seed=0, steps=steps, cfg_strength=flow.cfg.cfg_strength_for("normal"),
              noise_scale=flow.cfg.noise_scale_for("normal"))
    decoded = flow.generate(tokens, p_mel, p_tokens, **kw)
    panels = [("ground truth", gt_mel), (f"decoded from its tokens, {steps or flow.cfg.steps} steps", decoded)]
    if told:
        from deepasmr.flow.io import load_flow
        from deepasmr.pitch import load_pitch
        from deepasmr.pitch.model import clip_register

        predictor = load_pitch(told[1])
        register = clip_register(prompt, cfg, predictor.cfg)
        f0 = predictor.generate(tokens, 0.0 if register is None else register)
        panels.append(("decoder told the predicted F0, same tokens",
                       load_flow(told[0]).generate(tokens, p_mel, p_tokens, f0=f0, **kw)))
    low = int((librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax) < 1500).sum())
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.4 * len(panels) + 0.2), sharex=True)
    for ax, (name, mel) in zip(axes, panels, strict=True):
        ax.imshow(torch.as_tensor(mel)[:low].numpy(), origin="lower", aspect="auto", cmap="magma", vmin=-11, vmax=1)
        ax.set_title(f"{entry['ground_truth'].split('/')[-1]}: {name} (mel bins below 1.5 kHz)")
        ax.set_ylabel("mel bin")
    axes[-1].set_xlabel("frame (86 per s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
