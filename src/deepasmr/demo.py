"""`make demo`: N2A on the embedded default model — a held-out virtual speaker's *normal* clip in, the same
voice *whispering* a new sentence out.

Writes `out/demo_asmr.wav` and `out/demo_asmr.png` (spectrogram + F0 of the prompt, the output and the
speaker's own real whisper) and prints R_UV and SIM: SIM of the output to the speaker's own whisper (which
the model never heard) and to the prompt, beside the ceiling a real whisper of the same speaker reaches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepasmr.errors import DeepASMRError, ModelFilesError

DEMO_TEXT = "Close your eyes, breathe slowly, and let the soft rain carry you off to sleep."
VOICE_JSON = "voices/default.json"


def _default_voice(bundle_root: Path) -> dict:
    path = bundle_root / VOICE_JSON
    if not path.is_file():
        raise ModelFilesError(f"{path}: the bundle has no default voice clip")
    voice = json.loads(path.read_text())
    for key in ("audio", "reference_asmr"):
        voice[key] = bundle_root / "voices" / voice[key]
    return voice


def _plot(clips: dict, analyses: dict, sr: int, title: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepasmr.atomic import save_figure
    from deepasmr.audio import log_mel

    fig, axes = plt.subplots(2, len(clips), figsize=(5 * len(clips), 6), sharey="row", squeeze=False)
    for col, (name, wav) in enumerate(clips.items()):
        result, track = analyses[name]
        mel = log_mel(wav).numpy()
        axes[0, col].imshow(mel, origin="lower", aspect="auto", cmap="magma",
                            extent=(0, wav.size / sr, 0, mel.shape[0]))
        axes[0, col].set_title(f"{name}: R_UV {result['r_uv']:.0%} ({result['style']})")
        axes[1, col].plot(track.times, track.f0, lw=1.5)
        axes[1, col].fill_between(track.times, 0, 50, where=track.active & ~track.voiced,
                                  color="tab:orange", alpha=0.5, label="active, unvoiced")
        axes[1, col].set_xlabel("time (s)")
        axes[1, col].legend(loc="upper right", fontsize="small")
    axes[0, 0].set_ylabel("mel bin")
    axes[1, 0].set_ylabel("F0 (Hz)")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, out, dpi=100)


def run(out_dir: Path, model_dir: str | None = None, seed: int = 0) -> dict:
    from deepasmr.audio import load_audio, save_audio
    from deepasmr.eval.analyze import analyze_wave
    from deepasmr.pipeline import DeepASMR
    from deepasmr.speaker.embedding import cosine, embed

    print("1/3 loading the embedded default model ...", flush=True)
    model = DeepASMR.load(model_dir)
    voice = _default_voice(model.bundle.root)
    sr = model.sample_rate

    print(f"2/3 N2A: {voice['speaker']}'s normal clip -> whispered {DEMO_TEXT!r} ...", flush=True)
    result = model.speak_detailed(DEMO_TEXT, voice["audio"], "asmr", prompt_text=voice["text"],
                                  prompt_style="normal", seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_audio(out_dir / "demo_asmr.wav", result.wav, sr)

    print("3/3 measuring R_UV and SIM ...", flush=True)
    clips = {"prompt (normal)": load_audio(voice["audio"], sr)[0], "output (N2A)": result.wav,
             "own real whisper": load_audio(voice["reference_asmr"], sr)[0]}
    analyses = {name: analyze_wave(wav, sr, name) for name, wav in clips.items()}
    emb = {name: embed(wav, sr) for name, wav in clips.items()}
    _plot(clips, analyses, sr, f"{voice['speaker']} (held out): normal prompt -> N2A output vs own whisper",
          out_dir / "demo_asmr.png")
    return {
        "speaker": voice["speaker"], "task": result.task, "route": result.route.get("entry_id"),
        "seconds": round(result.wav.size / sr, 2), "timings": result.timings,
        "r_uv": {name: a[0]["r_uv"] for name, a in analyses.items()},
        "sim_output_vs_own_whisper": cosine(emb["output (N2A)"], emb["own real whisper"]),
        "sim_output_vs_prompt": cosine(emb["output (N2A)"], emb["prompt (normal)"]),
        "sim_ceiling_own_whisper_vs_prompt": cosine(emb["own real whisper"], emb["prompt (normal)"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--model", default=None, help="model bundle (default: the embedded models/tiny)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        report = run(args.out, args.model, args.seed)
    except DeepASMRError as err:
        print(f"deepasmr demo: error: {err}", file=sys.stderr)
        return 2
    r_uv = report["r_uv"]
    print(f"speaker {report['speaker']} ({report['task']}, task prompt from pool entry {report['route']}):")
    print("  R_UV " + " | ".join(f"{name} {value:.1%}" for name, value in r_uv.items()))
    print(f"  SIM output vs own real whisper {report['sim_output_vs_own_whisper']:.3f} | output vs prompt "
          f"{report['sim_output_vs_prompt']:.3f} | ceiling (own whisper vs prompt) "
          f"{report['sim_ceiling_own_whisper_vs_prompt']:.3f}")
    print(f"  {report['seconds']} s of audio in {report['timings'].get('total', 0):.1f} s")
    print(f"wrote {args.out / 'demo_asmr.wav'} and {args.out / 'demo_asmr.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
