"""Copy-synthesis pitch: 12 EN N2N test ground truths (every 33rd entry), each one's own log-mel through the
shipped Vocos (style normal) and through HiFi-GAN universal; PYIN median F0 and unvoiced share of each.
(session 25; run from the repository root)"""
import json, numpy as np, torch, soundfile as sf, librosa
from deepasmr.pipeline import DeepASMR
from deepasmr.audio import load_audio
from deepasmr.audio.features import log_mel
from deepasmr.vocoder.base import load_vocoder
m = DeepASMR.load()
vocos = m.bundle.vocoder
hifi = load_vocoder("hifigan")
ents = json.load(open("corpus/v2/testsets/EN_N2N_testset.json"))[::33][:12]
def f0(w):
    f, v, _ = librosa.pyin(w, fmin=60, fmax=400, sr=22050, frame_length=1024, hop_length=256)
    f = f[v]; return np.median(f) if f.size else 0, 1 - v.mean()
for e in ents:
    wav, _ = load_audio("corpus/v2/" + e["ground_truth"], 22050)
    mel = log_mel(wav)[None]
    torch.manual_seed(0)
    a = vocos.generate(mel, style="normal").squeeze().numpy()
    b = hifi.generate(mel, style="normal").squeeze().numpy()
    print(e["ground_truth"].split("/")[-2][:28], "GT %.0f Hz uv %.2f | vocos %.0f uv %.2f | hifi %.0f uv %.2f" % (*f0(wav), *f0(a), *f0(b)))
