"""The trainable Vocos-style vocoder: paper preset at reduced width, iSTFT alignment, GAN step, save/load."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from deepasmr.audio import MEL_PRESETS, log_mel
from deepasmr.errors import ModelFilesError
from deepasmr.vocoder import VocoderConfig, load_vocoder
from deepasmr.vocoder.gan import GANConfig, VocoderGAN, periodicity, periodicity_loss
from deepasmr.vocoder.vocos import ISTFT, VOCOS_PRESETS, VocosGenerator, load_vocos, save_vocos, warm_start

SMALL = {"dim": 32, "intermediate_dim": 64, "num_layers": 2}
SMALL_GAN = GANConfig(period_channels=(4, 8, 16, 16), spec_channels=4, resolutions=((512, 128), (256, 64)))


def small_paper() -> VocosGenerator:
    return VocosGenerator(replace(VOCOS_PRESETS["paper"], **SMALL))


def test_paper_preset_matches_paper_mel():
    cfg = VOCOS_PRESETS["paper"]
    assert cfg.mel == MEL_PRESETS["paper"] and cfg.mel.sample_rate == 24_000
    assert (cfg.dim, cfg.intermediate_dim, cfg.num_layers) == (512, 1536, 8)


def test_istft_inverts_our_framing():
    """A signal's own STFT (framed like log_mel: reflect pad (n_fft - hop) / 2, not centred) comes back
    exactly through the "same"-padded iSTFT, away from the reflected edges."""
    n_fft, hop = 64, 16
    wav = torch.randn(2, 50 * hop)
    pad = (n_fft - hop) // 2
    padded = F.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(padded, n_fft, hop, window=torch.hann_window(n_fft), center=False, return_complex=True)
    out = ISTFT(n_fft, hop)(spec)
    assert out.shape == wav.shape
    assert torch.allclose(out[:, n_fft:-n_fft], wav[:, n_fft:-n_fft], atol=1e-4)


def test_paper_preset_forward_and_training_step():
    torch.manual_seed(0)
    gen = small_paper()
    mel_cfg = gen.cfg.mel
    assert gen(torch.zeros(1, mel_cfg.n_mels, 5)).shape == (1, 5 * mel_cfg.hop_length)
    gan = VocoderGAN(gen, mel_cfg, SMALL_GAN).train()
    opt = torch.optim.AdamW(gan.parameters(), lr=2e-4, betas=(0.8, 0.99))
    wav = 0.1 * torch.randn(2, 6 * mel_cfg.hop_length)
    before = [p.detach().clone() for p in gan.parameters()]
    out = gan({"wav": wav})
    assert {"loss", "loss_g", "loss_d", "mel_l1", "stft", "adv", "fm"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, gan.parameters(), strict=True) if p.grad is not None)
    assert int(gan.step) == 1


def test_each_network_gets_only_its_own_gradient():
    """The joint loss must give the discriminators exactly the gradient of their own hinge loss."""
    torch.manual_seed(0)
    gen = small_paper()
    gan = VocoderGAN(gen, gen.cfg.mel, SMALL_GAN)
    wav = 0.1 * torch.randn(1, 4 * gen.cfg.mel.hop_length)
    gan({"wav": wav})["loss"].backward()
    joint = [p.grad.clone() for p in gan.discriminators.parameters()]
    gan.zero_grad()
    fake = gen(log_mel(wav, gen.cfg.mel))
    gan.discriminator_loss(fake, wav).backward()
    own = [p.grad for p in gan.discriminators.parameters()]
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(joint, own, strict=True))
    assert all(p.grad is None for p in gen.parameters())


def test_reconstruction_only_phase_skips_discriminators():
    gen = small_paper()
    gan = VocoderGAN(gen, gen.cfg.mel, replace(SMALL_GAN, adversarial_start=10))
    out = gan({"wav": 0.1 * torch.randn(1, 4 * gen.cfg.mel.hop_length)})
    assert "loss_d" not in out and "adv" not in out


def test_save_load_roundtrip_through_registry(tmp_path):
    gen = small_paper().eval()
    save_vocos(gen, tmp_path / "voc")
    vocoder = load_vocoder(VocoderConfig(kind="vocos", mel_preset="paper", weights=tmp_path / "voc"))
    mel = torch.randn(80, 4)
    assert vocoder.sample_rate == 24_000
    with torch.no_grad():
        expected = gen(mel.unsqueeze(0))[0].clamp(-1, 1)
    assert torch.allclose(vocoder.generate(mel), expected, atol=1e-6)
    assert load_vocos(tmp_path / "voc").cfg == gen.cfg
    with pytest.raises(ValueError, match="paper"):
        load_vocoder(VocoderConfig(kind="vocos", mel_preset="tiny", weights=tmp_path / "voc"))


def test_vocos_without_weights_is_an_error(tmp_path):
    with pytest.raises(ModelFilesError, match="no trained Vocos weights"):
        load_vocoder("vocos")
    with pytest.raises(ModelFilesError, match="lacks"):
        load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path))


def test_untrained_vocos_on_request():
    vocoder = load_vocoder(VocoderConfig(kind="vocos", mel_preset="tiny", options={"untrained": True}))
    assert vocoder.generate(torch.zeros(80, 3)).shape == (3 * 256,)


def test_warm_start_copies_a_folder_and_refuses_a_mismatch(tmp_path):
    torch.manual_seed(0)
    trained = small_paper().eval()
    save_vocos(trained, tmp_path / "voc")
    started = warm_start(small_paper(), tmp_path / "voc").eval()
    mel = torch.randn(1, trained.cfg.mel.n_mels, 6)
    with torch.no_grad():
        assert torch.equal(started(mel), trained(mel))
    with pytest.raises(ModelFilesError, match="do not fit"):
        warm_start(VocosGenerator(replace(trained.cfg, dim=48)), tmp_path / "voc")
    with pytest.raises(ModelFilesError, match="lacks"):
        warm_start(small_paper(), tmp_path / "nothing")


def test_pitch_head_phase_advances_at_the_harmonic_nearest_each_bin(tmp_path):
    """Given F0 = 200 Hz, each bin's phase advances per frame by 2 pi h 200 hop / sr beyond the predicted phase,
    h the harmonic nearest the bin (at least the first); the model saves and loads with its pitch head."""
    torch.manual_seed(0)
    cfg = replace(VOCOS_PRESETS["tiny"], pitch_head=True, **SMALL)
    model = VocosGenerator(cfg).eval()
    plain = VocosGenerator(replace(cfg, pitch_head=False))
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("pitch.")})
    mel = torch.randn(1, cfg.mel.n_mels, 12)
    with torch.no_grad():
        extra = model.spectrum(mel, torch.full((1, 12), 200.0))[1] - plain.spectrum(mel)[1]
    sr, hop = cfg.mel.sample_rate, cfg.mel.hop_length
    for k, h in ((0, 1), (9, 1), (100, 11)):  # bin 9 = 194 Hz, bin 100 = 2,153 Hz
        step = torch.diff(extra[0, k].double())
        expected = 2 * torch.pi * h * 200 * hop / sr
        assert (torch.remainder(step - expected + torch.pi, 2 * torch.pi) - torch.pi).abs().max() < 1e-4
    save_vocos(model, tmp_path / "voc")
    assert load_vocos(tmp_path / "voc").pitch is not None


def test_a_given_f0_drives_the_pitch_head_vocos_and_its_voicing(tmp_path):
    """generate(mel, f0=...): a Vocos with a pitch head follows the caller's F0 and draws the phase of exactly the
    frames it calls unvoiced (seeded: voiced frames repeat, unvoiced ones do not); a whisper is drawn whole;
    HiFi-GAN-like vocoders without a pitch head ignore it; a wrong length is refused."""
    torch.manual_seed(0)
    cfg = replace(VOCOS_PRESETS["tiny"], pitch_head=True, voicing_head=True, random_phase_styles=("asmr",), **SMALL)
    save_vocos(VocosGenerator(cfg), tmp_path / "voc")
    vocoder = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "voc"))
    mel, hop = torch.randn(cfg.mel.n_mels, 40), cfg.mel.hop_length
    f0 = torch.cat([torch.full((20,), 120.0), torch.zeros(20)])

    def render(pitch, seed, style="normal"):
        torch.manual_seed(seed)
        return vocoder.generate(mel, style=style, f0=pitch)

    a, b = render(f0, 1), render(f0, 2)
    voiced, unvoiced = slice(2 * hop, 16 * hop), slice(24 * hop, 38 * hop)
    assert torch.allclose(a[voiced], b[voiced], atol=1e-5) and not torch.allclose(a[unvoiced], b[unvoiced])
    assert not torch.allclose(render(f0 * 2, 1)[voiced], a[voiced], atol=1e-3)  # the phase follows the F0
    assert not torch.allclose(render(f0, 1, "asmr")[voiced], render(f0, 2, "asmr")[voiced])
    plain = load_vocoder(VocoderConfig(kind="vocos", weights=tmp_path / "voc"))
    plain.model.pitch = None
    torch.manual_seed(1)
    with_f0 = plain.generate(mel, style=None, f0=f0)
    torch.manual_seed(1)
    torch.testing.assert_close(with_f0, plain.generate(mel, style=None))
    with pytest.raises(ValueError, match="one value per mel frame"):
        vocoder.generate(mel, f0=torch.zeros(39))


def test_random_phase_styles_draw_the_phase_of_those_styles_only(tmp_path):
    """Told the style, a Vocos with random_phase_styles=("asmr",) draws a new phase for each whispered call;
    normal output (and output of unknown style) is the plain predicted-phase vocoder's."""
    torch.manual_seed(0)
    gen = VocosGenerator(replace(VOCOS_PRESETS["paper"], random_phase_styles=("asmr",), **SMALL)).eval()
    save_vocos(gen, tmp_path / "voc")
    vocoder = load_vocoder(VocoderConfig(kind="vocos", mel_preset="paper", weights=tmp_path / "voc"))
    assert vocoder.model.cfg == gen.cfg
    mel = torch.randn(gen.cfg.mel.n_mels, 8)
    with torch.no_grad():
        plain = gen(mel[None])[0].clamp(-1, 1)
    assert torch.allclose(vocoder.generate(mel, style="normal"), plain, atol=1e-6)
    assert torch.allclose(vocoder.generate(mel), plain, atol=1e-6)
    first, second = vocoder.generate(mel, style="asmr"), vocoder.generate(mel, style="asmr")
    assert not torch.allclose(first, second, atol=1e-4) and not torch.allclose(first, plain, atol=1e-4)


def test_periodicity_tells_whisper_from_voiced_speech(clip):
    """The periodicity loss's measure on real synthesizer clips: espeak's whisper voice scores well below its
    normal voice (active frames), and the loss of a clip against itself is zero and against the other > 0.1."""
    hz, sr = (65.0, 600.0), 22_050
    wavs = {name: torch.from_numpy(clip(name)[0])[None] for name in ("espeak_normal", "espeak_whisper")}

    def mean_active(name: str) -> float:
        peak, energy = periodicity(wavs[name], sr, hz, 1024, 256)
        return peak[energy > 1e-3 * energy.max()].mean().item()

    assert mean_active("espeak_whisper") + 0.15 < mean_active("espeak_normal")  # measured 0.26 vs 0.48
    normal, whisper = wavs["espeak_normal"], wavs["espeak_whisper"]
    assert periodicity_loss(normal, normal, sr, hz, 1024, 256).item() == 0.0
    assert periodicity_loss(whisper, normal, sr, hz, 1024, 256).item() > 0.1


def test_a_config_this_version_cannot_read_is_a_clear_error(tmp_path):
    save_vocos(small_paper(), tmp_path / "voc")
    cfg = json.loads((tmp_path / "voc" / "vocos.json").read_text())
    (tmp_path / "voc" / "vocos.json").write_text(json.dumps({**cfg, "from_the_future": 1}))
    with pytest.raises(ModelFilesError, match="vocos.json: not a Vocos config"):
        load_vocos(tmp_path / "voc")
