"""Helpers shared by the flow tests (a plain module: test folders are not packages here)."""

from __future__ import annotations

import subprocess

import torch
from torch import nn

from deepasmr.audio import MEL_PRESETS, load_audio, log_mel
from deepasmr.flow import FlowConfig

TEXT = "The quiet river carries soft whispers far into the night."


def synth_mel(tmp_dir, preset: str = "tiny", voice: str = "en-us") -> torch.Tensor:
    mel_cfg = MEL_PRESETS[preset]
    wav_path = tmp_dir / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav_path), TEXT], check=True, capture_output=True)
    wav, _ = load_audio(wav_path, mel_cfg.sample_rate)
    return log_mel(wav, mel_cfg)


def make_batch(mel: torch.Tensor, cfg: FlowConfig, batch_size: int = 4, seed: int = 0) -> dict:
    """The same clip repeated, with made-up token ids (one per `token_ratio` frames)."""
    g = torch.Generator().manual_seed(seed)
    t = mel.shape[-1]
    n = -(-t // cfg.token_ratio)
    tokens = torch.randint(cfg.vocab_size, (n,), generator=g)
    return {
        "mel": mel[None].repeat(batch_size, 1, 1),
        "mel_lens": torch.full((batch_size,), t),
        "tokens": tokens[None].repeat(batch_size, 1),
        "token_lens": torch.full((batch_size,), n),
    }


def write_shards(root, mel: torch.Tensor, speakers=("spk_a", "spk_b"), per_style: int = 2, ratio: int = 4):
    """A feature-shard folder in deepasmr.data.shards' layout (meta.json, index.jsonl, one safetensors
    shard); each utterance is a different crop of `mel` (fp16), with made-up tokens, speaker embedding
    and phones."""
    import json

    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    tensors, rows = {}, []
    g = torch.Generator().manual_seed(0)
    for s, spk in enumerate(speakers):
        for style in ("normal", "asmr"):
            for k in range(per_style):
                uid = f"{spk}_{style}_{k}"
                n = mel.shape[-1] - 8 * (k + 2 * s)
                n_tok = -(-n // ratio)
                tensors[f"{uid}/mel"] = mel[:, :n].half().contiguous()
                tensors[f"{uid}/tokens"] = torch.randint(1000, (n_tok,), generator=g, dtype=torch.int32)
                tensors[f"{uid}/spk"] = torch.nn.functional.normalize(torch.randn(256, generator=g), dim=0)
                tensors[f"{uid}/phones"] = torch.arange(5, dtype=torch.int32)
                split = "dev" if k == per_style - 1 and s == len(speakers) - 1 else "train"
                rows.append(dict(id=uid, speaker=spk, style=style, language="en", text="t", split=split,
                                 n_frames=n, n_tokens=n_tok, shard="shard-00000.safetensors", spk_ok=True))
    save_file(tensors, str(root / "shard-00000.safetensors"))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"tokenizer": {"codebook_size": 1000}, "mel": MEL_PRESETS["tiny"].to_dict(), "frames_per_token": ratio}
    (root / "meta.json").write_text(json.dumps(meta))
    return rows


class Recorder(nn.Module):
    """Stands in for the velocity network: returns a leaf tensor and keeps what it was given (`inputs`)."""

    def forward(self, x_t, cond_mel, ids, t, mask, spk=None, phone_ids=None, f0=None):
        self.inputs = dict(x_t=x_t, cond_mel=cond_mel, ids=ids, t=t, mask=mask, spk=spk, phone_ids=phone_ids, f0=f0)
        self.v = torch.zeros_like(x_t, requires_grad=True)
        return self.v
