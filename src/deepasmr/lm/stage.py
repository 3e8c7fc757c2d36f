"""The LM's entry in the training registry: `deepasmr train lm --config configs/lm_tiny.yaml`.

Registry line (deepasmr/train/registry.py, STAGES): `"lm": "deepasmr.lm.stage:SPEC"`.
The batch budget `batch.max_frames` counts packed LM positions (text + prompt + target tokens) here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from deepasmr.lm.config import LMConfig, lm_preset
from deepasmr.train.config import BatchConfig, OptimConfig, TrainerConfig
from deepasmr.train.registry import StageSpec


@dataclass
class LMDataConfig:
    shards: str = "runs/shards/tiny"  # folder written by deepasmr.data.shards (index.jsonl + safetensors)
    train_splits: tuple[str, ...] = ("train",)
    val_splits: tuple[str, ...] = ("dev",)
    max_prompt_tokens: int = 300  # longer clips are never used as task prompts
    max_target_tokens: int = 800  # longer targets are skipped (memory)
    # The tokenizer folder that wrote the shards: its CTC head aligns phones to tokens for model.phone_aux_weight.
    alignment_tokenizer: str | None = None


@dataclass
class LMStageConfig:
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(
        out_dir="runs/lm/tiny", max_steps=4000, ckpt_every_n_steps=200, log_every_n_steps=10,
        val_every_n_steps=250, val_batches=20, num_threads=2))
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-3, warmup_steps=200, weight_decay=0.01))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(max_frames=8000))
    data: LMDataConfig = field(default_factory=LMDataConfig)
    model: LMConfig = field(default_factory=lambda: lm_preset("tiny"))
    # Fine-tuning: a folder with an exported LM (lm.json + lm.safetensors) to start from. Its shape and phone
    # vocabulary win; the training-only knobs below come from `model`.
    init_from: str | None = None


# LMConfig fields that only shape training, taken from the run's config when starting from `init_from`.
TRAINING_ONLY_FIELDS = ("no_prompt_prob", "speech_input_noise", "phone_aux_weight", "guided_attention_weight",
                        "guided_attention_sigma", "guided_attention_layers", "guided_attention_heads",
                        "guided_attention_aligned_sigma")


def tiny() -> LMStageConfig:
    return LMStageConfig()


def paper() -> LMStageConfig:
    # model.pretrained_dir must name a local Qwen2.5-0.5B folder (set it in the YAML).
    return LMStageConfig(
        trainer=TrainerConfig(out_dir="runs/lm/paper", max_steps=200_000, ckpt_every_n_steps=2000,
                              val_every_n_steps=2000, devices="auto", strategy="ddp"),
        optim=OptimConfig(lr=1e-4, warmup_steps=2500),
        batch=BatchConfig(max_frames=30_000, num_workers=4),
        data=LMDataConfig(shards="runs/shards/paper"),
        model=lm_preset("paper"),
    )


PRESETS = {"tiny": tiny, "paper": paper}


def build_data(cfg: LMStageConfig):
    from deepasmr.lm.data import LMDataModule

    return LMDataModule(cfg)


def build_model(cfg: LMStageConfig, dm):
    from deepasmr.errors import DataError
    from deepasmr.lm.model import SpeechLM

    model_cfg = cfg.model
    if dm.codebook_size is not None:
        model_cfg = replace(model_cfg, speech_vocab_size=dm.codebook_size)
    if dm.max_token() >= model_cfg.speech_vocab_size:
        raise DataError(f"speech token {dm.max_token()} in {cfg.data.shards} does not fit the LM's codebook of "
                        f"{model_cfg.speech_vocab_size} (set model.speech_vocab_size)")
    if cfg.init_from:
        from deepasmr.lm.io import load_lm

        start = load_lm(cfg.init_from)
        if start.cfg.speech_vocab_size != model_cfg.speech_vocab_size:
            raise DataError(f"{cfg.init_from} has a codebook of {start.cfg.speech_vocab_size}, the shards "
                            f"{model_cfg.speech_vocab_size}")
        start.cfg = replace(start.cfg, **{k: getattr(cfg.model, k) for k in TRAINING_ONLY_FIELDS})
        start.add_phone_head()
        if cfg.model.text_pointer:
            start.add_pointer()
        cfg.model = start.cfg
        return start.train()
    if model_cfg.text_unit == "phone" and not model_cfg.phones:
        model_cfg = model_cfg.with_phones(dm.phone_symbols())
    cfg.model = model_cfg  # so the run's config.yaml records the vocabulary the model was built with
    return SpeechLM.from_config(model_cfg)


def export(model, cfg: LMStageConfig, dm, out_dir: Path) -> None:
    import torch

    from deepasmr.lm.io import save_lm

    # float16 on disk halves the bundle's largest file; load_lm computes in float32 again.
    save_lm(model.cpu().float().eval(), out_dir, dtype=torch.float16)


SPEC = StageSpec(
    name="lm",
    config_cls=LMStageConfig,
    presets=PRESETS,
    build_data=build_data,
    build_model=build_model,
    export=export,
    description="text -> speech-token LM (Qwen2) with a style token and a task prompt",
)
