"""Would Griffin-Lim on the Vocos's own predicted magnitude (its phase as the start, fast-GL momentum 0.99) recover
the pitch its predicted phase loses? PYIN median F0 / unvoiced share after 0, 16 and 64 iterations, for the
wav paths given. (session 25 scratch probe; run from the repository root)"""
import json, sys, numpy as np, torch, librosa, torch.nn.functional as F
from deepasmr.pipeline import DeepASMR
from deepasmr.audio import load_audio
from deepasmr.audio.features import log_mel
m = DeepASMR.load()
gen = m.bundle.vocoder.model
ist = gen.istft
n_fft, hop = ist.n_fft, ist.hop
pad = (n_fft - hop) // 2
def stft(w):
    x = F.pad(w[None, None], (pad, pad), mode="reflect")[0]
    return torch.stft(x, n_fft, hop_length=hop, window=ist.window, center=False, return_complex=True)
@torch.no_grad()
def vocode(mel, iters):
    x = gen.norm_in(gen.embed(mel).transpose(1, 2)).transpose(1, 2)
    for b in gen.blocks: x = b(x)
    h = gen.head(gen.norm_out(x.transpose(1, 2))).transpose(1, 2)
    log_mag, phase = h.chunk(2, dim=1)
    mag = torch.exp(log_mag).clamp(max=gen.cfg.max_magnitude)
    mask = gen.phase_mask(mel, ["normal"])
    torch.manual_seed(0)
    if mask is not None:
        noise = torch.pi * (2 * torch.rand_like(phase) - 1)
        phase = torch.where(mask[:, None, :phase.shape[-1]], noise, phase)
    spec = torch.polar(mag, phase)
    prev = None
    for _ in range(iters):
        w = ist(spec)[0]
        s = stft(w)
        s = s[..., :spec.shape[-1]]
        # fast Griffin-Lim (momentum)
        cur = s
        if prev is not None: s = cur + 0.99 * (cur - prev)
        prev = cur
        spec = mag * torch.exp(1j * torch.angle(s))
    return ist(spec)[0].numpy()
def f0(w):
    f, v, _ = librosa.pyin(w, fmin=60, fmax=400, sr=22050, frame_length=1024, hop_length=256)
    f = f[v]; return (np.median(f) if f.size else 0), 1 - v.mean()
paths = sys.argv[1:]
for p in paths:
    wav, _ = load_audio(p, 22050)
    mel = log_mel(wav)[None]
    row = [p.split("/")[-2][:24] if "corpus" in p else p.split("/")[-1], "src %.0f Hz uv %.2f" % f0(wav)]
    for it in (0, 16, 64):
        row.append("GL%d %.0f uv %.2f" % (it, *f0(vocode(mel, it))))
    print(" | ".join(row), flush=True)
