"""The vocoder's entry in the training registry: `deepasmr train vocoder [--config X.yaml]`.

Trains a Vocos-style generator from scratch (`model.generator: vocos`) or fine-tunes the pretrained
HiFi-GAN universal generator (`model.generator: hifigan`, e.g. on the ASMR half of the corpus with
`data.styles: [asmr]`), with the GAN losses of `deepasmr.vocoder.gan` through the one-optimizer
`forward(batch) -> {"loss": ...}` contract. Items are random hop-aligned waveform crops.
Registering it takes one line in deepasmr/train/registry.py: "vocoder": "deepasmr.vocoder.stage:SPEC".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from deepasmr.train.config import BatchConfig, ConfigError, OptimConfig, TrainerConfig
from deepasmr.train.data import FrameDataModule
from deepasmr.train.registry import StageSpec
from deepasmr.vocoder.gan import GANConfig


@dataclass
class VocoderDataConfig:
    manifest: str = "corpus/small/manifest.jsonl"
    train_splits: tuple[str, ...] = ("train",)
    val_splits: tuple[str, ...] = ("dev",)
    styles: tuple[str, ...] = ("normal", "asmr")
    # Crop length in mel frames (64 x 256 = 16,384 samples at 22.05 kHz, HiFi-GAN/Vocos' usual size).
    segment_frames: int = 64
    # PYIN "unvoiced" flags per utterance (python -m deepasmr.vocoder.voicing): batches carry them and only
    # labelled utterances are used. Trains a Vocos voicing head (model.voicing_head) and draws those frames.
    voicing_labels: str | None = None


@dataclass
class VocoderModelConfig:
    generator: str = "vocos"  # vocos | hifigan
    preset: str = "tiny"  # VOCOS_PRESETS key (vocos only)
    # Width overrides for vocos (0 = the preset's value), e.g. for a quick smoke run.
    dim: int = 0
    intermediate_dim: int = 0
    num_layers: int = 0
    # hifigan: 'universal' (shipped) or a checkpoint path; vocos: a trained folder to start from (warm_start).
    init_weights: str | None = None
    random_phase_styles: tuple[str, ...] = ()  # vocos: VocosConfig.random_phase_styles
    voicing_head: bool = False  # vocos: VocosConfig.voicing_head (needs data.voicing_labels)
    voicing_channels: int = 0  # its width (0 = the preset's)
    # Start the head afresh even if init_weights has one (with gan.voicing_only: refit just the head).
    new_voicing_head: bool = False
    pitch_head: bool = False  # vocos: VocosConfig.pitch_head (needs F0 in data.voicing_labels)
    gan: GANConfig = field(default_factory=GANConfig)


@dataclass
class VocoderTrainConfig:
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(
        out_dir="runs/vocoder/tiny", max_steps=20_000, ckpt_every_n_steps=500, log_every_n_steps=10,
        val_every_n_steps=1000, grad_clip=0.0, num_threads=1))
    # HiFi-GAN/Vocos: AdamW 2e-4, betas (0.8, 0.99), little decay.
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        lr=2e-4, betas=(0.8, 0.99), weight_decay=0.0, warmup_steps=0, schedule="constant"))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(max_frames=8 * 64))
    data: VocoderDataConfig = field(default_factory=VocoderDataConfig)
    model: VocoderModelConfig = field(default_factory=VocoderModelConfig)


def _mel_preset(cfg: VocoderTrainConfig) -> str:
    from deepasmr.vocoder.vocos import VOCOS_PRESETS

    return "tiny" if cfg.model.generator == "hifigan" else VOCOS_PRESETS[cfg.model.preset].mel_preset


class WaveCrops(Dataset):
    """Whole utterances in memory (fp16); each access returns a fresh random hop-aligned crop of `segment`
    samples (zero-padded if shorter), with the same frames of its PYIN flags when `labels` are given."""

    def __init__(self, rows: list[dict], sample_rate: int, segment: int, hop: int, seed: int,
                 labels: dict | None = None, f0: dict | None = None) -> None:
        from deepasmr.audio import load_audio

        self.waves = [torch.from_numpy(load_audio(r["path"], sample_rate, trim=False)[0]).half() for r in rows]
        self.ids = [r["id"] for r in rows]
        self.styles = [r["style"] for r in rows]
        self.labels = None if labels is None else [torch.from_numpy(labels[r["id"]]).bool() for r in rows]
        self.f0 = None if not f0 else [torch.from_numpy(f0[r["id"]]).float() for r in rows]
        self.segment, self.hop = segment - segment % hop, hop
        self.lengths = [segment // hop] * len(rows)  # every item costs one crop of frames
        # Own generator: crops must not draw from the global RNG that exact resume restores.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, i: int) -> tuple[str, str, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        wav, frames = self.waves[i].float(), self.segment // self.hop
        n_starts = max(0, wav.shape[-1] - self.segment) // self.hop + 1
        start = int(torch.randint(0, n_starts, (), generator=self.generator))
        crop = wav[start * self.hop : start * self.hop + self.segment]
        crop = F.pad(crop, (0, self.segment - crop.shape[-1]))
        flags = f0 = None
        if self.labels is not None:  # padding is silence: unvoiced
            flags = self.labels[i][start : start + frames]
            flags = F.pad(flags, (0, frames - flags.shape[-1]), value=True)
        if self.f0 is not None:
            f0 = self.f0[i][start : start + frames]
            f0 = F.pad(f0, (0, frames - f0.shape[-1]))
        return self.ids[i], self.styles[i], crop, flags, f0


class VocoderDataModule(FrameDataModule):
    def __init__(self, cfg: VocoderTrainConfig) -> None:
        from deepasmr.audio import MEL_PRESETS

        super().__init__(cfg.batch, cfg.trainer.seed)
        self.cfg = cfg
        self.mel_cfg = MEL_PRESETS[_mel_preset(cfg)]
        self.labels = self.f0 = None
        if cfg.data.voicing_labels:
            from deepasmr.vocoder.voicing import load_labels, split_labels

            self.labels, self.f0 = split_labels(load_labels(cfg.data.voicing_labels))

    def _set(self, splits: tuple[str, ...]) -> WaveCrops | None:
        from deepasmr.data.manifest import read_manifest

        data = self.cfg.data
        root = Path(data.manifest).parent
        rows = [{**r, "path": str(root / r["path"])} for r in read_manifest(data.manifest)
                if r["split"] in splits and r["style"] in data.styles]
        if self.labels is not None:
            rows = [r for r in rows if r["id"] in self.labels]
        if not rows:
            return None
        hop = self.mel_cfg.hop_length
        return WaveCrops(rows, self.mel_cfg.sample_rate, data.segment_frames * hop, hop, self.seed, self.labels,
                         self.f0)

    def build_datasets(self):
        return self._set(self.cfg.data.train_splits), self._set(self.cfg.data.val_splits)

    def collate(self, items):
        ids, styles, crops, flags, f0 = zip(*items, strict=True)
        wav = torch.stack(crops)
        batch = {"ids": list(ids), "styles": list(styles), "wav": wav, "batch_size": len(ids),
                 "seconds": wav.numel() / self.mel_cfg.sample_rate}
        if flags[0] is not None:
            batch["unvoiced"] = torch.stack(flags)
        if f0[0] is not None:
            batch["f0"] = torch.stack(f0)
        return batch


def build_data(cfg: VocoderTrainConfig) -> VocoderDataModule:
    return VocoderDataModule(cfg)


def build_model(cfg: VocoderTrainConfig, dm: VocoderDataModule):
    from deepasmr.vocoder.gan import VocoderGAN

    if cfg.model.generator == "hifigan":
        from deepasmr.vocoder.hifigan import load_generator

        generator = load_generator(cfg.model.init_weights).train()
    else:
        from deepasmr.vocoder.vocos import VOCOS_PRESETS, VocosGenerator, warm_start

        m = cfg.model
        sizes = {"dim": m.dim, "intermediate_dim": m.intermediate_dim, "num_layers": m.num_layers}
        if m.voicing_head and not cfg.data.voicing_labels:
            raise ConfigError("model.voicing_head needs data.voicing_labels (python -m deepasmr.vocoder.voicing)")
        if m.gan.voicing_only and not m.voicing_head:
            raise ConfigError("model.gan.voicing_only trains the voicing head alone: set model.voicing_head")
        preset = replace(VOCOS_PRESETS[m.preset], random_phase_styles=m.random_phase_styles,
                         voicing_head=m.voicing_head, pitch_head=m.pitch_head)
        if m.voicing_channels:
            preset = replace(preset, voicing_channels=m.voicing_channels)
        generator = VocosGenerator(replace(preset, **{k: v for k, v in sizes.items() if v}))
        if m.init_weights:
            warm_start(generator, m.init_weights, new_voicing_head=m.new_voicing_head)
    return VocoderGAN(generator, dm.mel_cfg, cfg.model.gan)


def export(model, cfg: VocoderTrainConfig, dm, out_dir: Path) -> None:
    """Vocos: a folder `load_vocoder(VocoderConfig(kind='vocos', weights=out_dir))` reads. HiFi-GAN: a
    plain generator state dict that `VocoderConfig(kind='hifigan', weights=...)` reads."""
    generator = model.generator.cpu().float().eval()
    if cfg.model.generator == "hifigan":
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"generator": generator.state_dict()}, out_dir / "generator.pth")
    else:
        from deepasmr.vocoder.vocos import save_vocos

        save_vocos(generator, out_dir)


def tiny() -> VocoderTrainConfig:
    return VocoderTrainConfig()


def paper() -> VocoderTrainConfig:
    return VocoderTrainConfig(
        trainer=TrainerConfig(out_dir="runs/vocoder/paper", max_steps=1_000_000, ckpt_every_n_steps=5000,
                              val_every_n_steps=5000, grad_clip=0.0, devices="auto", strategy="ddp"),
        batch=BatchConfig(max_frames=16 * 32, num_workers=4),
        data=VocoderDataConfig(manifest="corpus/v1/manifest.jsonl", segment_frames=32),
        model=VocoderModelConfig(preset="paper"),
    )


PRESETS = {"tiny": tiny, "paper": paper}

SPEC = StageSpec(
    name="vocoder",
    config_cls=VocoderTrainConfig,
    presets=PRESETS,
    build_data=build_data,
    build_model=build_model,
    export=export,
    description="GAN vocoder: Vocos-style ConvNeXt + iSTFT from scratch, or fine-tune the HiFi-GAN universal",
)
