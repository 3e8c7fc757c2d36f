"""GAN training of a mel -> waveform generator (Vocos-style or a HiFi-GAN to fine-tune).

Losses (HiFi-GAN / Vocos recipe):
- reconstruction: L1 between log-mels of output and target (the shared mel definition) plus a
  multi-resolution STFT loss (spectral convergence + log-magnitude L1), which also sees the band
  above the mel's fmax where breath noise of whisper lives;
- adversarial (hinge, as in Vocos) from a multi-period discriminator (periodic structure: voicing)
  and a multi-resolution spectrogram discriminator (full-band texture: noise, breath);
- feature matching on the discriminators' intermediate maps.

`forward(batch) -> {"loss": ...}` fits the project's one-optimizer training entry: the loss sums the
generator's and the discriminators' losses, with graphs arranged so that each side's parameters only get
gradients from its own loss (reconstruction only until `adversarial_start` steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from deepasmr.audio.features import MelConfig, log_mel

# HiFi-GAN's discriminator activation slope.
LRELU_SLOPE = 0.1


@dataclass(frozen=True)
class GANConfig:
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_channels: tuple[int, ...] = (32, 128, 512, 1024)
    # (n_fft, hop) per spectrogram discriminator / STFT loss resolution.
    resolutions: tuple[tuple[int, int], ...] = ((2048, 512), (1024, 256), (512, 128))
    spec_channels: int = 32
    # Periodicity loss (0 = off): L1 between output's and target's frame periodicity (`periodicity`: the
    # autocorrelation peak at pitch lags, periodicity_hz = the R_UV tracker's 65-600 Hz). Magnitude losses
    # compare bins one by one, where a whisper's noise hides a faint harmonic comb; the autocorrelation sums
    # that comb over all bins. Reconstruction-trained Vocos gave 0.52 to whisper and normal speech alike; as a
    # loss it did not fix that (history in configs/vocoder_vocos_tiny_v4.yaml), so no config turns it on.
    periodicity_weight: float = 0.0
    periodicity_hz: tuple[float, float] = (65.0, 600.0)
    periodicity_window: int = 1024
    # Loss weights: mel 45 as in HiFi-GAN/Vocos; feature matching 2 as in HiFi-GAN.
    mel_weight: float = 45.0
    stft_weight: float = 1.0
    adv_weight: float = 1.0
    fm_weight: float = 2.0
    # Binary cross-entropy of a Vocos voicing head against the batch's PYIN "unvoiced" flags, and the head's
    # learning rate as a multiple of the generator's: it starts from scratch beside a warm-started generator,
    # and x15 gives it the 3e-3 at which a lone fit learnt (v5: 81 % of dev frames after 2,000 steps; at step
    # 500 a run at the generator's rate stood at the same 73.5 %, so the start is not faster for it).
    voicing_weight: float = 1.0
    voicing_lr_scale: float = 15.0  # for a pitch head (VocosConfig.pitch_head) too: it also starts from scratch
    # L1 (octaves) of a Vocos pitch head against the batch's PYIN F0 on voiced frames.
    pitch_weight: float = 1.0
    # Train the voicing head alone (the generator is not run): refit a head, e.g. a wider one, on longer crops
    # than the generator's, in a fraction of a generator step's time.
    voicing_only: bool = False
    # Train on reconstruction alone first so the discriminators meet plausible audio.
    adversarial_start: int = 0


class PeriodDiscriminator(nn.Module):
    """Folds the wave into (T / p, p) and runs 2-D convs along time: sees period-p structure."""

    KERNEL, STRIDE = 5, 3

    def __init__(self, period: int, channels: tuple[int, ...]):
        super().__init__()
        self.period = period
        chans = (1, *channels)
        pad = (self.KERNEL // 2, 0)
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(c_in, c_out, (self.KERNEL, 1), (self.STRIDE, 1), padding=pad))
            for c_in, c_out in zip(chans[:-1], chans[1:], strict=True)
        )
        self.convs.append(weight_norm(nn.Conv2d(chans[-1], chans[-1], (self.KERNEL, 1), padding=pad)))
        self.post = weight_norm(nn.Conv2d(chans[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, t = wav.shape
        if t % self.period:
            wav = F.pad(wav, (0, self.period - t % self.period), mode="reflect")
        x = wav.view(b, 1, -1, self.period)
        feats = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            feats.append(x)
        x = self.post(x)
        feats.append(x)
        return x.flatten(1), feats


class SpectrogramDiscriminator(nn.Module):
    """2-D convs over one resolution's log-magnitude spectrogram (full band, up to Nyquist)."""

    def __init__(self, n_fft: int, hop: int, channels: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        specs = [((7, 5), (2, 2)), ((5, 3), (2, 1)), ((5, 3), (2, 1)), ((3, 3), (1, 1))]
        layers, c_in = [], 1
        for kernel, stride in specs:
            pad = (kernel[0] // 2, kernel[1] // 2)
            layers.append(weight_norm(nn.Conv2d(c_in, channels, kernel, stride, padding=pad)))
            c_in = channels
        self.convs = nn.ModuleList(layers)
        self.post = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(wav, self.n_fft, self.hop, window=self.window, return_complex=True).abs()
        x = torch.log1p(spec).unsqueeze(1)  # (B, 1, freq, frames)
        feats = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            feats.append(x)
        x = self.post(x)
        feats.append(x)
        return x.flatten(1), feats


def stft_loss(fake: torch.Tensor, real: torch.Tensor, resolutions: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """Multi-resolution STFT loss: spectral convergence + L1 of log magnitudes, averaged."""
    total = fake.new_zeros(())
    for n_fft, hop in resolutions:
        window = torch.hann_window(n_fft, device=fake.device)
        mags = [torch.stft(w, n_fft, hop, window=window, return_complex=True).abs() for w in (fake, real)]
        f_mag, r_mag = (m.clamp_min(1e-7) for m in mags)
        convergence = torch.linalg.norm(r_mag - f_mag) / torch.linalg.norm(r_mag).clamp_min(1e-7)
        total = total + convergence + F.l1_loss(f_mag.log(), r_mag.log())
    return total / len(resolutions)


def periodicity(wav: torch.Tensor, sample_rate: int, hz: tuple[float, float], window: int, hop: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) periodicity of Hann-windowed frames, the peak of the normalised autocorrelation over the pitch
    lags of `hz` (low..high), and (B, T) frame energy. Measured on corpus/v2 test clips: about 0.33 for
    whisper, 0.66 for normal speech, 0.11 for white noise. The FFT is twice the window so that the
    correlation is linear, not circular."""
    spec = torch.stft(wav, 2 * window, hop, win_length=window, window=torch.hann_window(window, device=wav.device),
                      return_complex=True)
    corr = torch.fft.irfft(spec.abs().square(), n=2 * window, dim=1)[:, :window]
    energy = corr[:, 0]
    lags = slice(int(sample_rate / hz[1]), int(sample_rate / hz[0]) + 1)
    return corr[:, lags].amax(dim=1) / energy.clamp_min(1e-8), energy


def periodicity_loss(fake: torch.Tensor, real: torch.Tensor, sample_rate: int, hz: tuple[float, float],
                     window: int, hop: int) -> torch.Tensor:
    """L1 between the periodicity of output and target frames, over the target's active frames (within
    30 dB of its loudest: R_UV also counts only active frames)."""
    fake_peak, _ = periodicity(fake, sample_rate, hz, window, hop)
    real_peak, energy = periodicity(real, sample_rate, hz, window, hop)
    active = energy > 1e-3 * energy.amax(dim=1, keepdim=True)
    return (fake_peak - real_peak).abs()[active].mean()


class VocoderGAN(nn.Module):
    """Generator + discriminators + losses. Batch: {"wav": (B, samples)} at the mel's sample rate, with
    samples a multiple of the hop; optional {"mel": (B, n_mels, frames)} (else computed from wav),
    "styles" (B names) and "unvoiced" (B, frames) PYIN flags (deepasmr.vocoder.voicing)."""

    def __init__(self, generator: nn.Module, mel: MelConfig, cfg: GANConfig = GANConfig()):
        super().__init__()
        self.generator, self.mel_config, self.cfg = generator, mel, cfg
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, cfg.period_channels) for p in cfg.periods)
        self.discriminators.extend(
            SpectrogramDiscriminator(n_fft, hop, cfg.spec_channels) for n_fft, hop in cfg.resolutions
        )
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def _mel(self, batch: dict) -> torch.Tensor:
        mel = batch.get("mel")
        return log_mel(batch["wav"], self.mel_config) if mel is None else mel

    def _pair(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        real, mel = batch["wav"], self._mel(batch)
        mask = self._phase_mask(batch)
        if getattr(self.generator, "pitch", None) is not None and batch.get("f0") is not None:
            # PYIN's F0, not the pitch head's guess, drives the phase in training (as the labels do the mask).
            fake = self.generator(mel, mask, f0=batch["f0"])
        else:
            fake = self.generator(mel) if mask is None else self.generator(mel, mask)
        n = min(fake.shape[-1], real.shape[-1])
        return fake[..., :n], real[..., :n], mel

    def _phase_mask(self, batch: dict) -> torch.Tensor | None:
        """A Vocos with random_phase_styles draws the phase of those items (by the batch's "styles"); with
        PYIN's "unvoiced" flags in the batch, of those frames too (the labels, not the head's guesses, so
        the magnitudes learn on the frames inference will draw once the head is trained)."""
        choose = getattr(self.generator, "random_phase_mask", None)
        by_style = choose(batch.get("styles")) if choose else None
        frames = batch.get("unvoiced")
        if frames is None or getattr(self.generator, "voicing", None) is None:
            return by_style
        frames = frames.bool()
        return frames if by_style is None else frames | by_style.to(frames.device)[:, None]

    def lr_scales(self) -> dict[str, float]:
        """For the training entry's optimizer: the voicing and pitch heads' learning-rate multiple."""
        return {"generator.voicing.": self.cfg.voicing_lr_scale, "generator.pitch.": self.cfg.voicing_lr_scale}

    def _discriminate(self, wav: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(wav) for d in self.discriminators]

    @property
    def adversarial(self) -> bool:
        return int(self.step) >= self.cfg.adversarial_start

    def reconstruction_loss(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict]:
        mel_l1 = F.l1_loss(log_mel(fake, self.mel_config), log_mel(real, self.mel_config))
        stft = stft_loss(fake, real, self.cfg.resolutions)
        loss = self.cfg.mel_weight * mel_l1 + self.cfg.stft_weight * stft
        logs = {"mel_l1": mel_l1.detach(), "stft": stft.detach()}
        if self.cfg.periodicity_weight:
            periodicity = periodicity_loss(fake, real, self.mel_config.sample_rate, self.cfg.periodicity_hz,
                                           self.cfg.periodicity_window, self.mel_config.hop_length)
            loss = loss + self.cfg.periodicity_weight * periodicity
            logs["periodicity"] = periodicity.detach()
        return loss, logs

    def discriminator_loss(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Hinge loss; `fake` is detached so only the discriminators learn from it."""
        outs = zip(self._discriminate(real), self._discriminate(fake.detach()), strict=True)
        total = sum(F.relu(1 - r).mean() + F.relu(1 + f).mean() for (r, _), (f, _) in outs)
        return total / len(self.discriminators)

    def adversarial_loss(self, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Generator's hinge + feature-matching losses with the discriminators frozen: their weights do
        not require grad while this graph is built, so backward only reaches the generator."""
        self.discriminators.requires_grad_(False)
        try:
            with torch.no_grad():
                real_out = self._discriminate(real)
            fake_out = self._discriminate(fake)
        finally:
            self.discriminators.requires_grad_(True)
        adv = sum(F.relu(1 - logits).mean() for logits, _ in fake_out) / len(fake_out)
        fm = sum(
            F.l1_loss(f, r)
            for (_, f_feats), (_, r_feats) in zip(fake_out, real_out, strict=True)
            for f, r in zip(f_feats, r_feats, strict=True)
        ) / len(fake_out)
        return adv, fm

    def forward(self, batch: dict) -> dict:
        """One GAN step's losses for a single optimizer over all parameters (the training entry's
        contract): "loss" = generator loss + discriminator loss, built so that each network's
        parameters only receive gradients from its own loss (simultaneous, not alternating, updates)."""
        head = getattr(self.generator, "voicing", None)
        if self.cfg.voicing_only:
            bce, accuracy = head.loss(self._mel(batch), batch["unvoiced"])
            return {"loss": bce, "voicing_bce": bce.detach(), "voicing_acc": accuracy}
        fake, real, mel = self._pair(batch)
        loss_g, logs = self.reconstruction_loss(fake, real)
        if head is not None and batch.get("unvoiced") is not None:
            bce, accuracy = head.loss(mel, batch["unvoiced"])
            loss_g = loss_g + self.cfg.voicing_weight * bce
            logs.update(voicing_bce=bce.detach(), voicing_acc=accuracy)
        pitch = getattr(self.generator, "pitch", None)
        if pitch is not None and batch.get("f0") is not None:
            l1, within = pitch.loss(mel, batch["f0"])
            loss_g = loss_g + self.cfg.pitch_weight * l1
            logs.update(pitch_l1=l1.detach(), pitch_within=within)
        loss = loss_g
        if self.adversarial:
            adv, fm = self.adversarial_loss(fake, real)
            loss_g = loss_g + self.cfg.adv_weight * adv + self.cfg.fm_weight * fm
            loss_d = self.discriminator_loss(fake, real)
            loss = loss_g + loss_d
            logs.update(adv=adv.detach(), fm=fm.detach(), loss_d=loss_d.detach())
        if self.training:
            self.step += 1
        return {"loss": loss, "loss_g": loss_g.detach(), **logs}

