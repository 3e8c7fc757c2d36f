"""Would Griffin-Lim on the Vocos's own predicted magnitude (its phase as the start, fast-GL momentum 0.99) recover
the pitch its predicted phase loses? PYIN median F0 / unvoiced share after 0, 16 and 64 iterations, for the
wav paths given. (session 25 scratch probe; run from the repository root)"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from probe_copy_pitch import pitch  # noqa: E402 (this folder is on the path when run as a script)

from deepasmr.audio import load_audio
from deepasmr.audio.features import log_mel
from deepasmr.pipeline import DeepASMR

MOMENTUM = 0.99  # fast Griffin-Lim
ITERATIONS = (0, 16, 64)
generator = DeepASMR.load().bundle.vocoder.model
istft = generator.istft
PAD = (istft.n_fft - istft.hop) // 2


def stft(wav: torch.Tensor) -> torch.Tensor:
    """The analysis that matches the Vocos's ISTFT framing (reflect-padded, not centred)."""
    x = F.pad(wav[None, None], (PAD, PAD), mode="reflect")[0]
    return torch.stft(x, istft.n_fft, hop_length=istft.hop, window=istft.window, center=False, return_complex=True)


@torch.no_grad()
def vocode(mel: torch.Tensor, iterations: int) -> np.ndarray:
    magnitude, phase = generator.spectrum(mel)
    mask = generator.phase_mask(mel, ["normal"])
    torch.manual_seed(0)
    if mask is not None:
        noise = torch.pi * (2 * torch.rand_like(phase) - 1)
        phase = torch.where(mask[:, None, : phase.shape[-1]], noise, phase)
    spec, previous = torch.polar(magnitude, phase), None
    for _ in range(iterations):
        current = stft(istft(spec)[0])[..., : spec.shape[-1]]
        target = current if previous is None else current + MOMENTUM * (current - previous)
        previous = current
        spec = magnitude * torch.exp(1j * torch.angle(target))
    return istft(spec)[0].numpy()


for path in sys.argv[1:]:
    wav, _ = load_audio(path, 22050)
    mel = log_mel(wav)[None]
    name = path.split("/")[-2][:24] if "corpus" in path else path.split("/")[-1]
    row = [name, "src {:.0f} Hz uv {:.2f}".format(*pitch(wav))]
    row += ["GL{} {:.0f} Hz uv {:.2f}".format(n, *pitch(vocode(mel, n))) for n in ITERATIONS]
    print(" | ".join(row), flush=True)
