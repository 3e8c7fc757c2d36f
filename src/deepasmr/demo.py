"""`make demo`: the main job on what exists today.

Until the embedded model bundle lands (the end-to-end issue), the demo runs the foundation end to end:
it synthesises the tiny bilingual normal+ASMR corpus, takes a held-out English speaker's normal clip and
the same speaker's ASMR clip, measures R_UV and SIM the paper's way, passes the ASMR clip through the
pretrained HiFi-GAN (copy-synthesis: mel -> vocoder, the path every generated utterance will take) and
writes the audio plus a picture comparing the three (spectrogram + F0 with voiced/unvoiced shading).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deepasmr.errors import DeepASMRError


def _pick_speaker(rows: list[dict]) -> tuple[dict, dict, dict]:
    """A held-out English speaker's normal and ASMR clips, plus another speaker's ASMR clip."""
    by_style: dict[tuple[str, str], dict] = {}
    for row in rows:
        by_style.setdefault((row["speaker"], row["style"]), row)
    english = sorted({r["speaker"] for r in rows if r["language"] == "en"},
                     key=lambda s: (by_style[(s, "normal")]["split"] != "test", s))
    speaker, other = english[0], english[1]
    return by_style[(speaker, "normal")], by_style[(speaker, "asmr")], by_style[(other, "asmr")]


def run(out_dir: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepasmr.atomic import save_figure
    from deepasmr.audio import load_audio, log_mel, save_audio
    from deepasmr.data.manifest import read_manifest
    from deepasmr.data.tiny import build_tiny_corpus
    from deepasmr.eval.analyze import analyze_wave
    from deepasmr.speaker.embedding import cosine, embed
    from deepasmr.vocoder import load_vocoder
    from deepasmr.vocoder.copysynth import copy_synthesize

    print("1/3 synthesising the tiny normal+ASMR corpus ...", flush=True)
    manifest = build_tiny_corpus(out_dir / "corpus", progress=True)
    normal, asmr, stranger = _pick_speaker(read_manifest(manifest))
    root = manifest.parent
    vocoder = load_vocoder()
    clips = {name: load_audio(root / row["path"], vocoder.sample_rate)[0]
             for name, row in (("normal", normal), ("asmr", asmr), ("stranger_asmr", stranger))}

    print("2/3 copy-synthesis through the pretrained HiFi-GAN ...", flush=True)
    clips["asmr_vocoded"] = copy_synthesize(clips["asmr"], vocoder)
    save_audio(out_dir / "demo_asmr.wav", clips["asmr_vocoded"], vocoder.sample_rate)

    print("3/3 measuring R_UV and SIM ...", flush=True)
    sr = vocoder.sample_rate
    analyses = {name: analyze_wave(wav, sr, name) for name, wav in clips.items()}
    emb = {name: embed(wav, sr) for name, wav in clips.items()}
    report = {
        "speaker": normal["speaker"],
        "r_uv": {name: result["r_uv"] for name, (result, _) in analyses.items()},
        "sim_same_speaker_normal_vs_asmr": cosine(emb["normal"], emb["asmr"]),
        "sim_other_speaker_asmr": cosine(emb["normal"], emb["stranger_asmr"]),
        "sim_asmr_vs_vocoded": cosine(emb["asmr"], emb["asmr_vocoded"]),
    }

    shown = ("normal", "asmr", "asmr_vocoded")
    fig, axes = plt.subplots(2, len(shown), figsize=(15, 6), sharey="row")
    for col, name in enumerate(shown):
        result, track = analyses[name]
        mel = log_mel(clips[name]).numpy()
        axes[0, col].imshow(mel, origin="lower", aspect="auto", cmap="magma",
                            extent=(0, clips[name].size / sr, 0, mel.shape[0]))
        axes[0, col].set_title(f"{name}: R_UV {result['r_uv']:.0%} ({result['style']})")
        axes[1, col].plot(track.times, track.f0, lw=1.5)
        axes[1, col].fill_between(track.times, 0, 50, where=track.active & ~track.voiced,
                                  color="tab:orange", alpha=0.5, label="active, unvoiced")
        axes[1, col].set_xlabel("time (s)")
        axes[1, col].legend(loc="upper right", fontsize="small")
    axes[0, 0].set_ylabel("mel bin")
    axes[1, 0].set_ylabel("F0 (Hz)")
    fig.suptitle(f"speaker {normal['speaker']} (held out): normal vs ASMR vs ASMR through the vocoder")
    fig.tight_layout()
    save_figure(fig, out_dir / "demo_asmr.png", dpi=100)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    try:
        report = run(args.out)
    except DeepASMRError as err:
        print(f"deepasmr demo: error: {err}", file=sys.stderr)
        return 2
    r_uv = report["r_uv"]
    print(f"speaker {report['speaker']}:")
    print(f"  R_UV normal {r_uv['normal']:.1%} | ASMR {r_uv['asmr']:.1%} | ASMR vocoded {r_uv['asmr_vocoded']:.1%}")
    print(f"  SIM same speaker normal vs ASMR {report['sim_same_speaker_normal_vs_asmr']:.3f} | "
          f"vs another speaker's ASMR {report['sim_other_speaker_asmr']:.3f} | "
          f"ASMR vs vocoded {report['sim_asmr_vs_vocoded']:.3f}")
    print(f"wrote {args.out / 'demo_asmr.wav'} and {args.out / 'demo_asmr.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
