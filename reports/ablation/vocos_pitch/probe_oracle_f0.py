"""v7's copy-synthesis of 13 normal test clips (every 40th, sorted by speaker) with its pitch head's F0 against
PYIN's F0 of the original driving the phase: how much of v7's excess unvoicing is the head's. (session 26; run
from the repository root with v7 at runs/vocoder/vocos_tiny_v7/export)"""
import json

import numpy as np
import torch

from deepasmr.audio import load_audio, log_mel
from deepasmr.audio.features import MEL_PRESETS
from deepasmr.eval.voicing import pitch_agreement, voicing_track
from deepasmr.vocoder.vocos import load_vocos
from deepasmr.vocoder.voicing import frame_labels


def main() -> None:
    torch.set_num_threads(2)
    model = load_vocos("runs/vocoder/vocos_tiny_v7/export")
    with open("corpus/v2/manifest.jsonl") as f:
        rows = [json.loads(line) for line in f]
    rows = sorted((r for r in rows if r["split"] == "test" and r["style"] == "normal"),
                  key=lambda r: (r["speaker"], r["id"]))[::40][:16]
    r_uv = {"orig": [], "head": [], "pyin": []}
    pitch = {"head": [], "pyin": []}
    for row in rows:
        wav, sr = load_audio("corpus/v2/" + row["path"], 22050, trim=False)
        mel = torch.as_tensor(log_mel(wav))[None].float()
        _, f0 = frame_labels(wav, sr, MEL_PRESETS["tiny"])
        n = mel.shape[-1]
        labelled = torch.zeros(1, n)
        labelled[0, : min(n, len(f0))] = torch.from_numpy(f0[:n])
        original = voicing_track(wav, sr)
        r_uv["orig"].append(original.r_uv)
        mask = model.phase_mask(mel, ["normal"])
        with torch.no_grad():
            read = model.pitch.hz(mel)
            for name, driver in (("head", None), ("pyin", torch.where(labelled > 0, labelled, read))):
                track = voicing_track(model(mel, mask, f0=driver).clamp(-1, 1).squeeze().numpy(), sr)
                r_uv[name].append(track.r_uv)
                pitch[name].append(pitch_agreement(original, track))
        print(row["speaker"][:14], {k: round(v[-1], 2) for k, v in r_uv.items()}, flush=True)
    print("R_UV mean", {k: round(float(np.mean(v)), 3) for k, v in r_uv.items()})
    for name, agreements in pitch.items():
        frames = sum(p.n_frames for p in agreements)
        print("GPE", name, sum(p.n_gross for p in agreements) / max(1, frames))


if __name__ == "__main__":
    main()
