"""Limits and joining parameters of the synthesis pipeline (one place, no magic numbers elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from deepasmr.errors import DeepASMRError
from deepasmr.precision import PRECISIONS

STYLES = ("normal", "asmr")


class SpeakError(DeepASMRError, ValueError):
    """A synthesis request that cannot be served as given (bad style, steps, iterations, ...)."""


@dataclass(frozen=True)
class SpeakConfig:
    # Longest accepted text (characters, before normalisation); longer input is refused, not truncated.
    max_chars: int = 2_000
    # A sentence longer than this is cut at clause marks / spaces: the LM's context stays bounded.
    max_sentence_chars: int = 200
    max_iterations: int = 5
    max_steps: int = 200
    # Silence inserted between sentences, and the fade applied to each sentence's ends (no clicks).
    pause_seconds: float = 0.25
    fade_seconds: float = 0.01
    # The speaker prompt given to the flow decoder is cut to this many seconds (cost grows with it).
    max_prompt_seconds: float = 10.0
    # LM sampling (deepasmr.lm.sampling.DecodeConfig); None = that module's defaults. Temperature 0.7 instead of
    # its 1.0: the tiny LM's tokens say their phones better (phone error lower in 7 of 8 tasks on dev and on
    # test; English N2A on 48 test entries 34.9 -> 32.8 %, its WER unchanged), timbre unchanged
    # (docs/measurements.md, session 19).
    temperature: float | None = 0.7
    top_k: int | None = None
    top_p: float | None = None
    # Token sequences the LM samples per sentence; the one the tokenizer's CTC phone head reads closest to the
    # text goes on to the flow (deepasmr.lm.rerank). 8 instead of 1: English N2A WER on 48 test entries 2.01x ->
    # 1.69x its ground truth, SIM unchanged, for about 2x the LM's time (RTF 0.37-0.52 -> 0.71-0.91 on a 2-core
    # AVX2 CPU); 16 lost Mandarin whisper timbre on dev (docs/measurements.md, session 21). 1 = plain sampling.
    candidates: int = 8
    # Flow ODE steps / classifier-free guidance / starting-noise scale (all styles); None = the decoder
    # config's defaults (its noise scale may differ per output style: FlowConfig.noise_scale_for).
    steps: int | None = None
    cfg_strength: float | None = None
    noise_scale: float | None = None
    # Phone guidance of the flow (FlowConfig.phone_cfg_strength); None = the decoder config's. 0 saves a third of
    # the decoder's time and costs words (docs/measurements.md, session 23).
    phone_cfg_strength: float | None = None
    # The flow decoder's and the LM's compute precision (deepasmr.precision): "auto" = bfloat16 where the hardware
    # has it natively (the flow 2.4x faster on an AMX CPU, SIM and R_UV unchanged; the LM's products bf16 too since
    # session 28: docs/measurements.md), else fp32.
    precision: str = "auto"
    # Output peak is scaled down to this when the vocoder overshoots (float wav in [-1, 1]).
    peak_limit: float = 0.99
    # Intra-style task without a prompt transcript: transcribe the clip with the ASR backend (False: go
    # straight to the prompt-free LM input). asr_model: a deepasmr.eval.asr model spec; None = the shipped
    # default of the text's language (Whisper tiny.en for en, multilingual Whisper base for zh).
    transcribe_prompt: bool = True
    asr_model: str | None = None
    # A transcript with more words per second of audio than this is an ASR loop (tiny.en loops on some
    # whispered clips, DESIGN.md), not the clip's words: it is not used.
    max_words_per_second: float = 6.0

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise SpeakError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if not self.max_prompt_seconds > 0:
            raise SpeakError(f"max_prompt_seconds must be > 0, not {self.max_prompt_seconds}")
        if self.temperature is not None and not self.temperature > 0:
            raise SpeakError(f"temperature must be > 0, not {self.temperature}")
        if not isinstance(self.candidates, int) or self.candidates < 1:
            raise SpeakError(f"candidates must be a whole number >= 1, not {self.candidates!r}")
        if self.phone_cfg_strength is not None and not self.phone_cfg_strength >= 0:
            raise SpeakError(f"phone guidance must be >= 0, not {self.phone_cfg_strength}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise SpeakError(f"top_p must be in (0, 1], not {self.top_p}")


DEFAULT_SPEAK = SpeakConfig()


def speak_config(precision: str = "auto", **overrides) -> SpeakConfig:
    """The default settings at another precision (a SpeakError names a value that is not one) and, given,
    other values of any other field (e.g. max_prompt_seconds, temperature); a None override keeps the default."""
    return replace(DEFAULT_SPEAK, precision=precision, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class RouteOptions:
    """How a cross-style task prompt is chosen (the paper's Table III ablation): `virtual` = the bundle's pool
    (or `pools`), `real-pool` = `pools` built from real clips, `fixed` = the one prompt (audio, transcript)."""

    mode: str = "virtual"
    pools: dict | None = None  # style -> deepasmr.speaker.pool.Pool; None = the bundle's
    fixed_prompt: tuple | None = None  # (audio path, transcript) for mode "fixed"


DEFAULT_ROUTE = RouteOptions()
