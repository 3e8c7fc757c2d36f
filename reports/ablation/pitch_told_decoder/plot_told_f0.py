"""Picture: one held-out normal utterance's log-mel below 1.5 kHz — the ground truth, the shipped decoder's
reconstruction from its tokens, and the decoder told F0 (the predictor's, from the tokens and the prompt's
register), same tokens, prompt and seed. (session 27; run from the repository root)

    python reports/ablation/pitch_told_decoder/plot_told_f0.py KEY OUT.png FLOW_DIR PITCH_DIR
"""
import json
import sys

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from deepasmr.audio import load_audio  # noqa: E402
from deepasmr.flow.io import load_flow  # noqa: E402
from deepasmr.pipeline.engine import DeepASMR  # noqa: E402
from deepasmr.pitch import load_pitch  # noqa: E402
from deepasmr.pitch.model import clip_register  # noqa: E402

TESTSET = "corpus/v2/testsets_dev/EN_N2N_testset.json"


def main() -> None:
    key, out, flow_dir, pitch_dir = sys.argv[1:5]
    torch.set_num_threads(1)
    model = DeepASMR.load()
    shipped, told, predictor = model.bundle.flow, load_flow(flow_dir), load_pitch(pitch_dir)
    cfg = model.bundle.mel_config
    with open(TESTSET) as f:
        entry = next(e for e in json.load(f) if e["key"] == key)
    gt, _ = load_audio("corpus/v2/" + entry["ground_truth"], cfg.sample_rate)
    prompt, _ = load_audio("corpus/v2/" + entry["prompt_audio"], cfg.sample_rate)
    gt_mel, tokens = model.mel_tokens(gt, crop=False)
    p_mel, p_tokens = model.mel_tokens(prompt)
    register = clip_register(prompt, cfg, predictor.cfg)
    f0 = predictor.generate(tokens, 0.0 if register is None else register)
    kw = dict(seed=0, cfg_strength=shipped.cfg.cfg_strength_for("normal"),
              noise_scale=shipped.cfg.noise_scale_for("normal"))
    panels = (("ground truth", gt_mel),
              ("shipped decoder, from its tokens", shipped.generate(tokens, p_mel, p_tokens, None, **kw)),
              ("decoder told the predicted F0, same tokens", told.generate(tokens, p_mel, p_tokens, None, f0=f0, **kw)))
    low = int((librosa.mel_frequencies(cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax) < 1500).sum())
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 7), sharex=True)
    for ax, (name, mel) in zip(axes, panels, strict=True):
        ax.imshow(torch.as_tensor(mel)[:low].numpy(), origin="lower", aspect="auto", cmap="magma", vmin=-11, vmax=1)
        ax.set_title(f"{entry['ground_truth'].split('/')[-1]}: {name} (mel bins below 1.5 kHz)")
        ax.set_ylabel("mel bin")
    axes[-1].set_xlabel("frame (86 per s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
