"""Tokenizer configs and the `tiny` / `paper` presets.

tiny: 80-mel at 86.13 Hz (the vocoder's), conv subsampling x4 -> 21.5 tokens/s, FSQ 8x5x5x5 = 1000 codes,
~2 M parameters (~4 MB in fp16). paper: the 50 Hz mel, x2 -> 25 tokens/s, FSQ 3^8 = 6561 codes (S3-like);
its encoder sizes are our choice (the paper reuses CosyVoice 2's tokenizer, whose sizes we cannot confirm).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepasmr.train.config import BatchConfig, OptimConfig, TrainerConfig


@dataclass
class TokenizerModelConfig:
    mel_preset: str = "tiny"  # deepasmr.audio.MEL_PRESETS key
    d_model: int = 160
    n_heads: int = 4
    ff_mult: int = 4
    pre_layers: int = 4  # encoder layers before the FSQ bottleneck
    post_layers: int = 2  # layers between the bottleneck and the CTC head
    dropout: float = 0.1
    subsample_strides: tuple[int, ...] = (2, 2)
    conv_kernel: int = 3
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)
    # Auxiliary per-token style classifier on the quantised codes (see stage docs for why).
    style_weight: float = 0.3
    # Reward even use of every FSQ level (per-channel marginal entropy of the batch): CTC alone needs only
    # ~60 phones x 2 styles of information and leaves most of the codebook unused.
    code_entropy_weight: float = 0.1
    # Intermediate CTC on the pre-quantisation hidden states: a direct phone signal for the encoder, which
    # otherwise learns only through the 4-d rounded bottleneck (our first run sat on the CTC blank plateau).
    inter_ctc_weight: float = 0.5
    # SpecAugment on the log-mel during training (masks per utterance, max width each).
    freq_masks: int = 2
    freq_mask_width: int = 10
    time_masks: int = 2
    time_mask_width: int = 12


@dataclass
class TokenizerDataConfig:
    manifest: str = "corpus/small/manifest.jsonl"
    train_splits: tuple[str, ...] = ("train",)
    val_splits: tuple[str, ...] = ("dev",)
    max_seconds: float = 20.0  # longer utterances are skipped (memory)
    min_seconds: float = 0.3


@dataclass
class TokenizerConfig:
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(
        out_dir="runs/tokenizer/tiny", max_steps=2000, ckpt_every_n_steps=100, log_every_n_steps=10,
        val_every_n_steps=200, val_batches=20, grad_clip=1.0,
        # Measured on our shared 2-core machine: 1 intra-op thread trains ~4x faster than 2 (oversubscription).
        num_threads=1))
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=2e-3, warmup_steps=200, weight_decay=0.01))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(max_frames=6000))
    data: TokenizerDataConfig = field(default_factory=TokenizerDataConfig)
    model: TokenizerModelConfig = field(default_factory=TokenizerModelConfig)
    # Fine-tuning: an exported tokenizer folder to start from. Its network, mel normalisation and CTC rows
    # (matched by phone symbol) are kept, so its codes keep much of their meaning and a decoder and LM
    # trained on them have a head start (see stage.warm_start).
    init_from: str | None = None


def tiny() -> TokenizerConfig:
    return TokenizerConfig()


def paper() -> TokenizerConfig:
    return TokenizerConfig(
        trainer=TrainerConfig(out_dir="runs/tokenizer/paper", max_steps=200_000, accumulate_grad_batches=2,
                              ckpt_every_n_steps=2000, val_every_n_steps=2000, devices="auto", strategy="ddp"),
        optim=OptimConfig(lr=1e-3, warmup_steps=10_000),
        batch=BatchConfig(max_frames=23_000, num_workers=4),
        data=TokenizerDataConfig(manifest="corpus/v1/manifest.jsonl"),
        model=TokenizerModelConfig(mel_preset="paper", d_model=1024, n_heads=16, pre_layers=12, post_layers=6,
                                   subsample_strides=(2,), fsq_levels=(3,) * 8, time_mask_width=8),
    )


PRESETS = {"tiny": tiny, "paper": paper}
