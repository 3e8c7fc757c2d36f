"""Copy-synthesis pitch: 12 EN N2N test ground truths (every 33rd entry), each one's own log-mel through the
shipped Vocos (style normal) and through HiFi-GAN universal; PYIN median F0 and unvoiced share of each.
(session 25; run from the repository root)"""
import json
from pathlib import Path

import librosa
import numpy as np
import torch

from deepasmr.audio import load_audio
from deepasmr.audio.features import log_mel
from deepasmr.pipeline import DeepASMR
from deepasmr.vocoder.base import load_vocoder

TESTSET = Path("corpus/v2/testsets/EN_N2N_testset.json")


def pitch(wav: np.ndarray) -> tuple[float, float]:
    """PYIN median F0 (0 when nothing is voiced) and unvoiced share."""
    f0, voiced, _ = librosa.pyin(wav, fmin=60, fmax=400, sr=22050, frame_length=1024, hop_length=256)
    return (float(np.median(f0[voiced])) if voiced.any() else 0.0), float(1 - voiced.mean())


def main() -> None:
    vocos = DeepASMR.load().bundle.vocoder
    hifi = load_vocoder("hifigan")
    for entry in json.loads(TESTSET.read_text())[::33][:12]:
        wav, _ = load_audio("corpus/v2/" + entry["ground_truth"], 22050)
        mel = log_mel(wav)[None]
        torch.manual_seed(0)
        rows = {"GT": wav, "vocos": vocos.generate(mel, style="normal").squeeze().numpy(),
                "hifi": hifi.generate(mel, style="normal").squeeze().numpy()}
        cells = [f"{name} {hz:.0f} Hz uv {uv:.2f}" for name, (hz, uv) in ((n, pitch(w)) for n, w in rows.items())]
        print(entry["ground_truth"].split("/")[-2][:28], " | ".join(cells))


if __name__ == "__main__":
    main()
