"""Probe: does the flow decoder's normal-style mel carry the speaker's pitch, or only its envelope? (session 26)

Reconstruction on held-out speakers: the ground-truth utterance's own tokens (our tokenizer) and another normal
utterance of the same speaker as the prompt, decoded by the shipped flow (its normal-style settings, no phones),
give a mel frame-aligned with the ground truth. The ground-truth mel (copy-synthesis) and the decoded mel are
voiced by HiFi-GAN universal, which keeps pitch in copy-synthesis (`../normal_pitch/`), and by the shipped
Vocos; PYIN on each wav is compared frame by frame with PYIN on the ground truth. Per set and source: the share of
ground-truth voiced frames the output voices too, and of those the share whose F0 is within 20 % of the
ground truth's (1 - gross pitch error); the median F0 ratio output / ground truth.

A decoder told F0 (session 27, FlowConfig.pitch_cond) is probed with `--flow DIR --f0 oracle` (WORLD's F0 of
the ground truth itself: can it render the harmonics when it knows the pitch?) and `--f0 predicted --pitch DIR`
(the F0 predictor's, from the tokens and the prompt's register: what synthesis will get).

    python probe_decoded_pitch.py --testset corpus/v2/testsets_dev/EN_N2N_testset.json --audio-root corpus/v2 \
        --limit 24 --stride 9 [--steps N] [--cfg W] [--vocos DIR] [--flow DIR --f0 oracle|predicted
        [--pitch DIR]] --json out.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import librosa
import numpy as np
import torch

from deepasmr.audio import load_audio
from deepasmr.flow.io import load_flow
from deepasmr.pipeline.engine import DeepASMR
from deepasmr.pitch import load_pitch
from deepasmr.pitch.model import speaker_register
from deepasmr.vocoder.base import VocoderConfig, load_vocoder
from deepasmr.vocoder.voicing import world_f0

F0_MIN, F0_MAX = 60.0, 400.0


def pyin(wav: np.ndarray, sr: int, hop: int, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    f0, voiced, _ = librosa.pyin(wav, fmin=F0_MIN, fmax=F0_MAX, sr=sr, frame_length=n_fft, hop_length=hop)
    return f0, voiced & np.isfinite(f0)


def compare(f0_ref, v_ref, f0, v) -> dict:
    n = min(len(f0_ref), len(f0))
    f0_ref, v_ref, f0, v = f0_ref[:n], v_ref[:n], f0[:n], v[:n]
    both = v_ref & v
    ok = np.abs(f0[both] / f0_ref[both] - 1) < 0.2
    return {"voiced_kept": float(both.sum() / max(v_ref.sum(), 1)),
            "pitch_ok": float(ok.mean()) if both.any() else 0.0,
            "median_ratio": float(np.median(f0[both] / f0_ref[both])) if both.any() else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--testset", required=True)
    ap.add_argument("--audio-root", required=True)
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--stride", type=int, default=9, help="every stride-th entry, to cover the speakers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--cfg", type=float, default=None, help="guidance strength (default: the model's for normal)")
    ap.add_argument("--vocos", default=None, help="a Vocos folder to use instead of the bundle's")
    ap.add_argument("--flow", default=None, help="a flow decoder folder to use instead of the bundle's")
    ap.add_argument("--f0", choices=("none", "oracle", "predicted"), default="none",
                    help="the F0 a pitch-told decoder gets: the ground truth's (WORLD) or the predictor's")
    ap.add_argument("--pitch", default=None, help="F0 predictor folder (with --f0 predicted)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = DeepASMR.load()
    flow, mel_cfg = model.bundle.flow, model.bundle.mel_config
    if args.flow is not None:
        flow = load_flow(args.flow)
    predictor = load_pitch(args.pitch) if args.f0 == "predicted" else None
    sr, hop, n_fft = mel_cfg.sample_rate, mel_cfg.hop_length, mel_cfg.n_fft
    vocos = model.bundle.vocoder
    if args.vocos is not None:
        vocos = load_vocoder(VocoderConfig(kind="vocos", weights=args.vocos, mel_preset="tiny"))
    vocoders = {"hifigan": load_vocoder("hifigan"), "vocos": vocos}
    rows = []
    for e in json.loads(Path(args.testset).read_text())[:: args.stride][: args.limit]:
        gt, _ = load_audio(Path(args.audio_root) / e["ground_truth"], sr)
        prompt, _ = load_audio(Path(args.audio_root) / e["prompt_audio"], sr)
        gt_mel, gt_tokens = model.mel_tokens(gt, crop=False)
        p_mel, p_tokens = model.mel_tokens(prompt)
        n_frames = gt_tokens.numel() * flow.cfg.token_ratio
        f0 = None
        if args.f0 == "oracle":
            f0 = torch.zeros(n_frames)
            known = torch.from_numpy(world_f0(gt, sr, mel_cfg))[:n_frames]
            f0[: known.numel()] = known
        elif args.f0 == "predicted":
            register = speaker_register(world_f0(prompt, sr, mel_cfg), predictor.cfg)
            f0 = predictor.generate(gt_tokens, 0.0 if register is None else register)
        decoded = flow.generate(gt_tokens, p_mel, p_tokens, None, seed=args.seed, steps=args.steps,
                                cfg_strength=flow.cfg.cfg_strength_for("normal") if args.cfg is None else args.cfg,
                                noise_scale=flow.cfg.noise_scale_for("normal"), f0=f0)
        f0_ref, v_ref = pyin(gt, sr, hop, n_fft)
        row = {"key": e["key"], "speaker": e["ground_truth"].split("/")[-2][:16],
               "gt_median_f0": float(np.median(f0_ref[v_ref]))}
        for mel_name, mel in (("copy", gt_mel), ("decoded", decoded)):
            for voc_name, vocoder in vocoders.items():
                torch.manual_seed(args.seed)
                wav = vocoder.generate(torch.as_tensor(mel)[None].float(), style="normal").squeeze().numpy()
                for k, val in compare(f0_ref, v_ref, *pyin(wav, sr, hop, n_fft)).items():
                    row[f"{mel_name}_{voc_name}_{k}"] = val
        rows.append(row)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    keys = [k for k in rows[0] if k.startswith(("copy_", "decoded_"))]
    summary = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in keys}
    summary["n"] = len(rows)
    print("SUMMARY", json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
