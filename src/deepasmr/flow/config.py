"""Typed configuration of the flow-matching decoder, with the `tiny` and `paper` presets.

Every size, probability and default of the decoder lives here; the model code reads nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

from deepasmr.audio import MEL_PRESETS, MelConfig

PromptMode = Literal["prefix", "span"]


@dataclass(frozen=True)
class FlowConfig:
    # --- features -------------------------------------------------------------------------
    mel_preset: str = "tiny"
    # Log-mel is normalised as (mel - mean) / std before flow matching, so that data and the
    # N(0, I) noise have comparable scale. Measured on 80 random utterances of corpus/small
    # (normal -5.65 / 2.30, asmr -6.23 / 2.18, pooled -6.00 / 2.25); re-estimate on another
    # corpus with `deepasmr.flow.data.mel_stats`.
    mel_mean: float = -6.0
    mel_std: float = 2.25

    # --- speech tokens --------------------------------------------------------------------
    vocab_size: int = 1000
    # Mel frames per speech token (tiny: 86 Hz mel / ~21.5 Hz tokens; paper: 50 Hz / 25 Hz).
    token_ratio: int = 4
    token_dim: int = 128
    # ConvNeXt blocks over the upsampled token embeddings: smooths the step-wise repetition.
    token_conv_layers: int = 2
    token_conv_kernel: int = 7
    # Beyond the paper: the phone each token speaks (the symbols below; empty = off) is embedded and added to
    # the token's. The tiny decoder doubled its tokens' phone error (CTC PER 0.28 real mel -> 0.55 decoded);
    # the text-pointer LM knows which phone every token it writes speaks, so the decoder can be told too.
    # Training reads them from lm.phone_targets' alignment (flow data `alignment_tokenizer`).
    phone_vocab: tuple[str, ...] = ()
    # Beyond the paper: F0 per frame as a condition (deepasmr.flow.pitch): a harmonic comb in mel bins plus
    # known/voiced flags, projected and added to the input. The tiny decoder drops the harmonics of normal
    # speech even from ground-truth tokens (reports/ablation/decoded_pitch/); told F0, it need not guess the pitch.
    # Training reads F0 labels (flow data `pitch_labels`); inference takes F0 from a predictor or the caller.
    pitch_cond: bool = False

    # --- velocity transformer -------------------------------------------------------------
    dim: int = 256
    depth: int = 8  # even: the first half feeds U-Net skips into the mirrored second half
    heads: int = 4
    ff_mult: float = 3.0
    # Width of the global conditioning vector (time embedding + speaker embedding) that drives
    # the adaptive layer norms; smaller than `dim` to keep the per-layer modulation cheap.
    cond_dim: int = 128
    time_freq_dim: int = 256  # sinusoidal features of t before the MLP
    time_scale: float = 1000.0  # t in [0, 1] is stretched so the sinusoids span many periods
    conv_pos_kernel: int = 31
    conv_pos_groups: int = 16
    rope_base: float = 10_000.0
    dropout: float = 0.0

    # --- speaker embedding (resemblyzer GE2E) ---------------------------------------------
    use_spk_emb: bool = False
    spk_emb_dim: int = 256

    # --- flow matching --------------------------------------------------------------------
    sigma_min: float = 1e-6

    # --- training-time conditioning ---------------------------------------------------------
    # "prefix": CosyVoice-style, the first `prompt_min..prompt_max` share of the utterance is the
    # prompt and the rest is generated — the exact inference layout [prompt | target].
    # "span": Voicebox-style, a contiguous span of `mask_min..mask_max` is masked anywhere; the
    # context may sit on both sides (more general infilling; inference is its prefix special case).
    prompt_mode: PromptMode = "prefix"
    prompt_min: float = 0.0
    prompt_max: float = 0.3
    mask_min: float = 0.7
    mask_max: float = 1.0
    # Classifier-free guidance: all conditions (tokens, prompt mel, speaker) dropped together.
    cfg_drop_prob: float = 0.2
    # Share of examples whose prompt region carries no tokens (inference without prompt tokens).
    prompt_token_drop_prob: float = 0.2
    # Share of examples trained without phones (with phone_vocab): the decoder must still work from tokens
    # alone (an LM without a text pointer, a prompt's own frames).
    phone_drop_prob: float = 0.2
    # Learning-rate multiple of the phone table (and of the F0 projection): added at zero to a trained decoder, it
    # must grow to the token embeddings' scale (|w| ~ 0.8) within a fine-tuning run, where Adam moves a weight ~lr
    # per step.
    phone_lr_scale: float = 10.0
    # Share of examples trained without F0 (with pitch_cond): the decoder must still work when no F0 is given.
    pitch_drop_prob: float = 0.2
    # Beyond the paper: with this probability an example uses batch['prompt_mel'] (another
    # utterance of the same speaker, e.g. in the other style) as the prefix. 0 = off.
    separate_prompt_prob: float = 0.0
    # Training crops longer utterances to this many frames (0 = no crop).
    max_train_frames: int = 600
    # A separate prompt utterance is cropped to this many frames (its start kept).
    max_prompt_frames: int = 300

    # --- inference --------------------------------------------------------------------------
    steps: int = 10
    cfg_strength: float = 0.7
    # Whispered output may get its own guidance strength (None = cfg_strength); 0 runs one forward per step
    # instead of two. Guidance sharpens the spectral envelope beyond the prompt's: measured, that suits some
    # voices and not others (reports/ablation/cfg_dev/), so models/tiny leaves this unset.
    asmr_cfg_strength: float | None = None
    # Guidance only on the ODE steps that start before this time (1.0 = every step). Late steps refine detail
    # the conditional branch already has (Kynkaanniemi et al. 2024, guidance in a limited interval), and each
    # unguided step costs one forward instead of two.
    cfg_until: float = 1.0
    # Phone guidance (a decoder told the phones only): v += w (v_cond - v_unphoned), where the unphoned branch
    # drops only the phones (training's phone_drop_prob shows it that input). 0 = off. It costs one more network
    # pass per guided step (three instead of two). models/tiny at 2: English N2A test WER 1.77x -> 1.53x its ground
    # truth's at seed 0 (-4.9 and -2.6 points at seeds 1 and 2), phone error down in 6 of 8 tasks, Mandarin
    # whisper timbre up, English timbre within -0.006 (docs/measurements.md, sessions 23-24).
    phone_cfg_strength: float = 0.0
    # Sway sampling (F5-TTS): t' = t + s (cos(pi t / 2) - 1 + t). s = -1 is the cosine schedule
    # t' = 1 - cos(pi t / 2) of CosyVoice: small steps near the noise end, where the path bends.
    sway_coef: float = -1.0
    # Standard deviation of the starting noise (Grad-TTS's temperature). Below 1 the ODE starts nearer the
    # mean path and the output has less fine-grained randomness: an undertrained decoder then keeps more
    # harmonics in normal speech (at 1 it renders a share of voiced frames as breath), but whispers pick up
    # voicing they should not have. So normal output may get its own scale; None = noise_scale.
    noise_scale: float = 1.0
    normal_noise_scale: float | None = None

    # The fields above under "inference": how the decoder is run, not what it learnt.
    INFERENCE_FIELDS = ("steps", "cfg_strength", "asmr_cfg_strength", "cfg_until", "phone_cfg_strength",
                        "sway_coef", "noise_scale", "normal_noise_scale")

    def __post_init__(self) -> None:
        if self.depth % 2:
            raise ValueError(f"depth must be even for the U-Net skips, got {self.depth}")
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(f"dim {self.dim} must split into {self.heads} heads of even width (rotary)")
        if self.prompt_mode not in ("prefix", "span"):
            raise ValueError(f"prompt_mode must be 'prefix' or 'span', got {self.prompt_mode!r}")
        for name in ("noise_scale", "normal_noise_scale"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("cfg_strength", "asmr_cfg_strength", "phone_cfg_strength"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0.0 <= self.cfg_until <= 1.0:
            raise ValueError(f"cfg_until must be a time in [0, 1], got {self.cfg_until}")
        if self.mel_preset not in MEL_PRESETS:
            raise ValueError(f"unknown mel preset {self.mel_preset!r}; choose from {sorted(MEL_PRESETS)}")
        object.__setattr__(self, "phone_vocab", tuple(self.phone_vocab))  # JSON and YAML give lists
        for name in ("cfg_drop_prob", "prompt_token_drop_prob", "phone_drop_prob", "pitch_drop_prob",
                     "separate_prompt_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")
        if not (0.0 <= self.prompt_min <= self.prompt_max < 1.0 and 0.0 < self.mask_min <= self.mask_max <= 1.0):
            raise ValueError("prompt shares must satisfy 0 <= min <= max < 1; mask shares 0 < min <= max <= 1")

    def noise_scale_for(self, style: str | None) -> float:
        """Starting-noise scale for output of this style ("asmr" / "normal"; None = not known)."""
        if style == "normal" and self.normal_noise_scale is not None:
            return self.normal_noise_scale
        return self.noise_scale

    def cfg_strength_for(self, style: str | None) -> float:
        """Guidance strength for output of this style ("asmr" / "normal"; None = not known)."""
        if style == "asmr" and self.asmr_cfg_strength is not None:
            return self.asmr_cfg_strength
        return self.cfg_strength

    @property
    def mel(self) -> MelConfig:
        return MEL_PRESETS[self.mel_preset]

    @property
    def n_mels(self) -> int:
        return self.mel.n_mels

    @property
    def pad_token(self) -> int:
        """Embedding row for "no token here": padding, CFG's null condition, untokenised prompts."""
        return self.vocab_size

    @property
    def null_phone(self) -> int:
        """Phone row for "phone not known": prompt frames, padding, CFG's null, LMs without a pointer."""
        return len(self.phone_vocab)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["phone_vocab"] = list(self.phone_vocab)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FlowConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown FlowConfig fields: {sorted(unknown)}")
        return cls(**d)

    def with_(self, **overrides) -> FlowConfig:
        return replace(self, **overrides)


FLOW_PRESETS: dict[str, FlowConfig] = {
    # Embedded default: ~7M parameters, trainable on CPU; 86 Hz HiFi-GAN mel, 4 frames per token. Three ODE
    # steps: 10 -> 4 kept SIM within about +-0.02 with phone error mostly lower (reports/ablation/steps4_*),
    # and 4 -> 3 tied again on dev and test (reports/ablation/t0.7_s3_test/paired_vs_t0.7_s4.json) at a
    # quarter less flow time, which matters on CPUs without bf16 (docs/measurements.md).
    "tiny": FlowConfig(steps=3),
    # The paper: Voicebox-size transformer (24 layers, 16 heads, 1024 dim), CosyVoice 2 tokens
    # (6561 FSQ codes at 25 Hz, 2 frames per token on the 50 Hz 24 kHz mel).
    "paper": FlowConfig(
        mel_preset="paper",
        vocab_size=6561,
        token_ratio=2,
        token_dim=512,
        token_conv_layers=4,
        dim=1024,
        depth=24,
        heads=16,
        ff_mult=4.0,
        cond_dim=512,
        conv_pos_groups=16,
        dropout=0.1,
        use_spk_emb=True,
        max_train_frames=1500,
        max_prompt_frames=500,
    ),
}


def flow_config(preset: str = "tiny", **overrides) -> FlowConfig:
    if preset not in FLOW_PRESETS:
        raise ValueError(f"unknown flow preset {preset!r}; choose from {sorted(FLOW_PRESETS)}")
    return FLOW_PRESETS[preset].with_(**overrides)
