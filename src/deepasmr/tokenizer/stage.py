"""The tokenizer's entry in the training registry: `deepasmr train tokenizer --config configs/tokenizer_tiny.yaml`."""

from __future__ import annotations

from pathlib import Path

from deepasmr.tokenizer.config import PRESETS, TokenizerConfig
from deepasmr.train.registry import StageSpec

# Utterances used to check that fp16 weights give the same tokens as fp32.
FP16_CHECK_UTTERANCES = 16


def build_data(cfg: TokenizerConfig):
    from deepasmr.tokenizer.dataset import TokenizerDataModule

    return TokenizerDataModule(cfg)


def build_model(cfg: TokenizerConfig, dm):
    from deepasmr.tokenizer.model import SpeechTokenizer

    model = SpeechTokenizer(cfg.model, dm.mel_cfg.n_mels, len(dm.vocab))
    mean, std = dm.mel_stats
    model.mel_mean.copy_(mean)
    model.mel_std.copy_(std)
    return model


def export(model, cfg: TokenizerConfig, dm, out_dir: Path) -> None:
    from deepasmr.tokenizer.io import save_tokenizer

    source = dm.val_set if dm.val_set is not None else dm.train_set
    mels = source.mels[:FP16_CHECK_UTTERANCES]
    hours = sum(dm.train_set.lengths) / dm.mel_cfg.frame_rate / 3600
    save_tokenizer(model.cpu().float().eval(), dm.vocab, out_dir, check_mels=mels,
                   extra={"trained_on": {"manifest": cfg.data.manifest, "hours": round(hours, 3),
                                         "steps": cfg.trainer.max_steps}})


SPEC = StageSpec(
    name="tokenizer",
    config_cls=TokenizerConfig,
    presets=PRESETS,
    build_data=build_data,
    build_model=build_model,
    export=export,
    description="S3-style supervised speech tokenizer (FSQ + CTC over phones + style head)",
)
