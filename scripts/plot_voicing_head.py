"""Picture of what the Vocos voicing head does to normal speech: the original's log-mel with PYIN's unvoiced
frames, the head's unvoiced frames, and copy-synthesis by a Vocos without the head and with it (each with the
frames PYIN calls unvoiced in that copy).

    python scripts/plot_voicing_head.py --clip corpus/v2/wavs/.../x_normal_003.wav \
        --without runs/vocoder/vocos_tiny_v4/export_step3500 --with runs/vocoder/vocos_tiny_v5/export \
        --out docs/figures/vocos_tiny_v5_voicing.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from deepasmr.atomic import save_figure
from deepasmr.audio import load_audio, log_mel
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder.voicing import frame_unvoiced


def main(argv: list[str] | None = None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", type=Path, required=True, help="a normal-speech wav")
    p.add_argument("--without", required=True, help="a Vocos folder without a voicing head")
    p.add_argument("--with", dest="with_head", required=True, help="a Vocos folder with a voicing head")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    before, after = (load_vocoder(VocoderConfig(kind="vocos", weights=w)) for w in (args.without, args.with_head))
    mel_cfg = after.mel_config
    wav, sr = load_audio(args.clip, mel_cfg.sample_rate, trim=False)
    mel = log_mel(wav, mel_cfg)
    with torch.no_grad():
        head = (after.model.voicing(mel[None])[0] > 0).numpy()
    rows = [("original", wav, frame_unvoiced(wav, sr, mel_cfg)), ("voicing head's unvoiced frames", wav, head)]
    for name, vocoder in (("Vocos without the head (v4)", before), ("Vocos with the head (v5)", after)):
        copy = vocoder.generate(mel, style="normal").numpy()
        rows.append((name, copy, frame_unvoiced(copy, sr, mel_cfg)))
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 2.2 * len(rows)), sharex=True)
    for ax, (name, audio, unvoiced) in zip(axes, rows, strict=True):
        spec = log_mel(audio, mel_cfg).numpy()
        ax.imshow(spec, origin="lower", aspect="auto", vmin=-11, vmax=2, cmap="magma")
        n = min(unvoiced.size, spec.shape[1])
        strip = np.where(unvoiced[:n], 1.0, np.nan)
        ax.plot(np.arange(n), strip * (mel_cfg.n_mels - 3), "|", color="cyan", markersize=6)
        ax.set_title(f"{name}: {100 * unvoiced[:n].mean():.0f} % of frames unvoiced (cyan)", fontsize=9)
        ax.set_ylabel("mel bin")
    axes[-1].set_xlabel(f"frame ({mel_cfg.hop_length} samples)")
    fig.tight_layout()
    save_figure(fig, args.out, dpi=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
