"""LM configuration: the `tiny` preset trained here from scratch and the `paper` preset (local Qwen2.5-0.5B).

Indices of the special embeddings (sos, task, eos, one per output style) live here as named constants so
the layout, the model and the decoder agree on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

STYLES = ("normal", "asmr")

# Rows of the special-embedding table.
SOS, TASK, EOS = 0, 1, 2
STYLE_OFFSET = 3
NUM_SPECIAL = STYLE_OFFSET + len(STYLES)

# Text id reserved for symbols outside the stored phone vocabulary (tiny preset).
UNK_TEXT = 0
UNK_SYMBOL = "<unk>"

IGNORE_INDEX = -100  # label of positions that carry no loss (torch's cross-entropy default)


def style_index(style: str | int) -> int:
    """Style name ("normal"/"asmr") or index -> index into STYLES."""
    if isinstance(style, int):
        if not 0 <= style < len(STYLES):
            raise ValueError(f"style index {style} out of range 0..{len(STYLES) - 1}")
        return style
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(STYLES)}")
    return STYLES.index(style)


@dataclass
class LMConfig:
    preset: str = "tiny"
    # Backbone (tiny preset). The paper preset takes its shape from `pretrained_dir/config.json` instead.
    hidden_size: int = 256
    num_layers: int = 6
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 1024
    max_positions: int = 2048
    rope_theta: float = 10_000.0
    rms_norm_eps: float = 1e-6
    attention_dropout: float = 0.0
    init_std: float = 0.02
    # Local Qwen2 folder (weights + BPE tokenizer) for the paper preset; never a hub id.
    pretrained_dir: str | None = None
    # Text units: "phone" (ids through `phones`, stored with the model) or "bpe" (the Qwen tokenizer).
    text_unit: str = "phone"
    phones: list[str] = field(default_factory=list)
    text_vocab_size: int = 0  # phone preset: len(phones); bpe: the backbone's vocab size
    # Speech tokens: the tokenizer's codebook (CosyVoice 2's S3 tokenizer has 6561 FSQ codes).
    speech_vocab_size: int = 6561
    # Share of training pairs with no task prompt at all, so the style token alone can steer.
    no_prompt_prob: float = 0.2
    # Training only: share of speech-token *inputs* (prompt and target history, never labels) replaced by a
    # random code. Clean history lets a small LM predict the next token from the last few tokens and ignore
    # the text (measured: right vs wrong text moved teacher-forced accuracy by 0.01); noisy history makes the
    # text the reliable source and looks like the model's own sampling errors at inference.
    speech_input_noise: float = 0.0
    # Training only: weight of the auxiliary phone loss (deepasmr.lm.phone_targets; 0 = off, no head). Each
    # target position also predicts the phone its next token speaks and the phone after it, which only the
    # text can tell; needs phone text units and the stage's `data.alignment_tokenizer`.
    phone_aux_weight: float = 0.0
    # Text pointer (deepasmr.lm.pointer; beyond the paper): each target position is told the phone its token
    # speaks and an advance head moves the pointer. Changes the model (not training-only); needs phone units.
    text_pointer: bool = False
    # Generated-length bounds relative to the target text length (in text units). Phones, tiny tokenizer
    # (21.5 tokens/s): corpus/small spans 1.36..4.06 tokens per phone over both styles and languages.
    min_tokens_per_text: float = 1.0
    max_tokens_per_text: float = 6.0
    # Guided attention (deepasmr.lm.guided), training only: weight 0 turns it off. The first
    # `guided_attention_heads` heads of each listed layer are pushed towards reading the text in order.
    guided_attention_weight: float = 0.0
    guided_attention_sigma: float = 0.2
    guided_attention_layers: list[int] = field(default_factory=lambda: [2, 3])
    guided_attention_heads: int = 2
    # > 0: guide those heads to each target token's aligned phone (lm.phone_targets; width in phones) instead
    # of the proportional diagonal. Needs the stage's `data.alignment_tokenizer`.
    guided_attention_aligned_sigma: float = 0.0
    # Full Qwen2Config dict of a loaded backbone, kept so a saved model rebuilds without `pretrained_dir`.
    backbone: dict | None = None

    @property
    def eos_label(self) -> int:
        """Index of eos in the speech head's output (after the codes)."""
        return self.speech_vocab_size

    @property
    def needs_phone_alignment(self) -> bool:
        """Training needs lm.phone_targets' per-token phone positions (phone loss, aligned guidance, pointer)."""
        aligned_guidance = self.guided_attention_weight > 0 and self.guided_attention_aligned_sigma > 0
        return self.phone_aux_weight > 0 or aligned_guidance or self.text_pointer

    @property
    def head_size(self) -> int:
        return self.speech_vocab_size + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown LMConfig keys: {', '.join(unknown)}")
        return cls(**data)

    def with_phones(self, phones: list[str]) -> LMConfig:
        """Copy of this config with its phone vocabulary (UNK first) and matching text table size."""
        symbols = [UNK_SYMBOL, *[p for p in phones if p != UNK_SYMBOL]]
        return replace(self, phones=symbols, text_vocab_size=len(symbols))


def lm_preset(name: str, **overrides) -> LMConfig:
    """`tiny` (small Qwen2, phones, the tiny tokenizer's 1000 codes) or `paper` (a local Qwen2.5-0.5B folder
    given as `pretrained_dir`, BPE text, 6561 codes). A missing folder is reported when the model is built."""
    if name == "tiny":
        # FSQ 8x5x5x5 = 1000 codes: deepasmr.tokenizer's tiny preset.
        return replace(LMConfig(speech_vocab_size=1000), **overrides)
    if name == "paper":
        # BPE units are about 3x longer than phones: CosyVoice 2's bounds of 2..20 tokens per text token.
        base = LMConfig(preset="paper", text_unit="bpe", min_tokens_per_text=2.0, max_tokens_per_text=20.0)
        return replace(base, **overrides)
    raise ValueError(f"unknown LM preset {name!r}: expected one of {', '.join(LM_PRESETS)}")


LM_PRESETS = ("tiny", "paper")
