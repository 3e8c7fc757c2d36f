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
    if cfg.init_from:
        return warm_start(model, cfg.init_from, dm.vocab)
    mean, std = dm.mel_stats
    model.mel_mean.copy_(mean)
    model.mel_std.copy_(std)
    return model


def warm_start(model, folder: str, vocab):
    """Copy an exported tokenizer into `model`, whose phone vocabulary may differ (a new corpus): CTC rows
    of shared symbols are copied, new symbols start from the fresh init. The start's mel normalisation is
    kept, not the new corpus's, because its encoder (and so its codes) were learnt on that scale."""
    import torch

    from deepasmr.errors import DataError
    from deepasmr.tokenizer.io import load_tokenizer

    start, start_vocab, _ = load_tokenizer(folder)
    ours, theirs = model.state_dict(), start.state_dict()
    heads = ("ctc_head", "inter_ctc_head")
    wrong = sorted(k for k in ours.keys() | theirs.keys() if k.split(".")[0] not in heads
                   and (k not in ours or k not in theirs or ours[k].shape != theirs[k].shape))
    if wrong:
        raise DataError(f"tokenizer.init_from {folder}: not the network `model` describes "
                        f"({len(wrong)} mismatched tensors, e.g. {wrong[0]})")
    shared = [(i, start_vocab.index[s]) for i, s in enumerate(vocab.symbols) if s in start_vocab.index]
    new_rows, old_rows = (torch.tensor(ix) for ix in zip(*shared, strict=True))
    with torch.no_grad():
        for name, value in theirs.items():
            if name.split(".")[0] in heads:
                ours[name][new_rows] = value[old_rows]
            else:
                ours[name].copy_(value)
    model.load_state_dict(ours)
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
