"""The decoder alone on held-out speakers, from ground-truth tokens (no LM), through the vocoder:

- reconstruction: an utterance's own tokens + a *different* utterance of the same speaker in the same style
  as the speaker prompt -> mel L1 to the real mel, global R_UV, SIM to the real recording and WER (English),
  each beside the real recording's own figures (R_UV of normal speech is where a decoder that has not yet
  learned harmonics shows: it whispers everything);
- with `--tokenizer DIR`, also the phone error rate that tokenizer's CTC head reads from the decoder's mel and
  from the vocoded output's mel, beside the real mel's: an ASR-free measure of whether the decoder keeps the
  phones its tokens carry (tiny.en struggles with our synthetic voices even on the originals, and Mandarin has no
  good offline ASR here);
- cross-style, the crucial case of N2A: a *normal* utterance of the speaker as prompt + the speaker's real
  *whisper* tokens -> global R_UV of the output, and per speaker whether the output is closer (SIM) to that
  speaker's own real whisper than to any other held-out speaker's whisper.

    python -m deepasmr.flow.evaluate --flow models/tiny --shards runs/shards/v1 --corpus corpus/v1 \\
        [--per-group 4] [--steps 10] [--cfg-strength 0.7] [--noise-scale 1.0] [--tokenizer models/tiny] \\
        [--phones models/tiny [--phone-cfg-strength 2]] [--pitch DIR] [--json out.json]
    python -m deepasmr.flow.evaluate ... --split dev --noise-sweep 1,0.7,0.5 [--styles normal]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from deepasmr.audio import log_mel
from deepasmr.data.shards import ShardReader
from deepasmr.eval.phones import PhoneReader, phone_error_rate, phone_errors


def _by_speaker_style(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        groups[(r["speaker"], r["style"])].append(r)
    return groups


class _Decoder:
    """Tokens + prompt utterance -> waveform at the vocoder's rate."""

    def __init__(self, flow, vocoder, reader: ShardReader, seed: int, phones: dict | None = None,
                 max_prompt_frames: int | None = None, f0_of=None, **sampling):
        self.flow, self.vocoder, self.reader, self.seed = flow, vocoder, reader, seed
        self.f0_of = f0_of  # (target id, prompt id) -> F0 per output frame or None, for a decoder told F0
        self.max_prompt_frames = max_prompt_frames  # the prompt's mel cut to this (None: whole utterance)
        self.phones = phones  # per utterance id, each token's phone id (flow.data.token_phones), or None
        # steps / cfg_strength / cfg_until / noise_scale / phone_cfg_strength for FlowDecoder.generate (None = config)
        self.sampling = sampling
        self.style_of = {r["id"]: r["style"] for r in reader.index}

    def __call__(self, target_id: str, prompt_id: str) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        target, prompt = self.reader[target_id], self.reader[prompt_id]
        r = self.flow.cfg.token_ratio
        p_tok = prompt["tokens"].long()
        frames = len(p_tok) * r
        if self.max_prompt_frames:
            frames = min(frames, self.max_prompt_frames // r * r)
        p_mel = prompt["mel"].float()[:, :frames]
        sampling, style = dict(self.sampling), self.style_of[target_id]
        if sampling.get("noise_scale") is None:
            sampling["noise_scale"] = self.flow.cfg.noise_scale_for(style)
        if sampling.get("cfg_strength") is None:
            sampling["cfg_strength"] = self.flow.cfg.cfg_strength_for(style)
        f0 = None if self.f0_of is None else self.f0_of(target_id, prompt_id)
        with torch.no_grad():
            mel = self.flow.generate(target["tokens"].long(), p_mel, p_tok[: p_mel.shape[-1] // r], seed=self.seed,
                                     phones=None if self.phones is None else self.phones[target_id], f0=f0,
                                     **sampling)
            wav = self.vocoder.generate(mel, style=style, f0=f0).cpu().numpy().astype(np.float32)
        return wav, mel, target["mel"].float()


def reconstruction(decode: _Decoder, groups, wav_of, embed, asr, per_group: int, sr: int,
                   phones: PhoneReader | None = None) -> dict:
    from deepasmr.eval.asr import error_rate, utterance_errors
    from deepasmr.eval.voicing import analyze_voicing, pool_ratios
    from deepasmr.speaker.embedding import cosine

    rows_by: dict[str, list[dict]] = defaultdict(list)
    for (_, style), utts in groups.items():
        if len(utts) < 2:
            continue
        lang = utts[0]["language"]
        rows_by[f"{style}/{lang}"].extend(
            {"target": t, "prompt": utts[(i + 1) % len(utts)]} for i, t in enumerate(utts[:2]))
    out = {}
    for name, pairs in sorted(rows_by.items()):
        lang = name.split("/")[1]
        l1, sims, sims_gt, gen_err, gt_err, gen_uv, gt_uv = [], [], [], [], [], [], []
        phone_rows: dict[str, list[dict]] = defaultdict(list)
        for pair in pairs[:per_group]:
            wav, mel, real_mel = decode(pair["target"]["id"], pair["prompt"]["id"])
            n = min(mel.shape[-1], real_mel.shape[-1])
            l1.append(float((mel[:, :n] - real_mel[:, :n]).abs().mean()))
            real, prompt = wav_of(pair["target"]), wav_of(pair["prompt"])
            gen_uv.append(analyze_voicing(wav, sr))
            gt_uv.append(analyze_voicing(real, sr))
            e_gen, e_real, e_prompt = embed(wav), embed(real), embed(prompt)
            sims.append(cosine(e_gen, e_real))
            sims_gt.append(cosine(e_real, e_prompt))
            if phones is not None:
                mels = {"decoder_mel": mel, "vocoded": log_mel(wav, phones.mel_cfg), "ground_truth": real_mel}
                reference = decode.reader[pair["target"]["id"]]["phones"].tolist()
                for key, m in mels.items():
                    phone_rows[key].append(phone_errors(phones.phones_of_mel(m), reference))
            if asr is not None and lang == "en":
                text = pair["target"]["text"]
                gen_err.append(utterance_errors(text, asr.transcribe(wav, lang), lang))
                gt_err.append(utterance_errors(text, asr.transcribe(real, lang), lang))
        out[name] = {"n": len(l1), "mel_l1": float(np.mean(l1)),
                     "r_uv_global": pool_ratios(gen_uv)["r_uv_global"],
                     "ground_truth_r_uv_global": pool_ratios(gt_uv)["r_uv_global"],
                     "sim_to_ground_truth": float(np.mean(sims)),
                     "ground_truth_sim_to_prompt": float(np.mean(sims_gt))}
        if phone_rows:
            out[name]["phone_error_rate"] = {k: phone_error_rate(rows) for k, rows in phone_rows.items()}
        if gen_err:
            gen, gt = error_rate(gen_err), error_rate(gt_err)
            out[name] |= {"wer": gen["rate"], "ground_truth_wer": gt["rate"],
                          "wer_capped": gen["rate_capped"], "ground_truth_wer_capped": gt["rate_capped"]}
    return out


def cross_style(decode: _Decoder, groups, wav_of, embed, per_speaker: int, sr: int) -> dict:
    """Normal prompt + real whisper tokens, per held-out speaker."""
    from deepasmr.eval.voicing import analyze_voicing, pool_ratios
    from deepasmr.speaker.embedding import cosine

    speakers = sorted({s for (s, st) in groups if st == "asmr" and (s, "normal") in groups})
    # References: each speaker's real whispers *not* used as targets here.
    refs = {s: [embed(wav_of(r)) for r in groups[(s, "asmr")][per_speaker:per_speaker + 3]] for s in speakers}
    summaries, per = [], {}
    for s in speakers:
        outs = []
        for i, target in enumerate(groups[(s, "asmr")][:per_speaker]):
            prompt = groups[(s, "normal")][i % len(groups[(s, "normal")])]
            wav, _, _ = decode(target["id"], prompt["id"])
            summaries.append(analyze_voicing(wav, sr))
            outs.append(embed(wav))
        sim = {o: float(np.mean([cosine(e, ref) for e in outs for ref in refs[o]])) for o in speakers if refs[o]}
        others = [v for o, v in sim.items() if o != s]
        per[s] = {"sim_own_whisper": sim.get(s), "best_other_whisper": max(others) if others else None,
                  "wins": bool(others) and s in sim and sim[s] > max(others)}
    wins = [p["wins"] for p in per.values()]
    return {**pool_ratios(summaries), "n_speakers": len(per), "speaker_win_rate": float(np.mean(wins)),
            "per_speaker": per}


def _told_phones(flow, shard_dir: str, split: str, tokenizer_dir: str) -> dict:
    from deepasmr.errors import DataError
    from deepasmr.flow.data import token_phones
    from deepasmr.lm.data import shard_phone_vocab

    vocab = tuple(shard_phone_vocab(shard_dir))
    if not flow.cfg.phone_vocab or flow.cfg.phone_vocab != vocab:
        raise DataError("--phones needs a decoder trained with phones from these shards' phone vocabulary")
    return token_phones(shard_dir, [split], tokenizer_dir)


def _predicted_f0(pitch_dir: str, reader: ShardReader, paths: dict, mel):
    """(target id, prompt id) -> the predictor's F0 for a normal-style target around the prompt's register
    (WORLD on the prompt's recording), None for a whispered one (synthesis tells the decoder nothing then)."""
    from deepasmr.audio import load_audio
    from deepasmr.pitch import load_pitch
    from deepasmr.pitch.model import clip_register

    predictor = load_pitch(pitch_dir)
    style_of = {r["id"]: r["style"] for r in reader.index}

    def f0_of(target_id: str, prompt_id: str) -> torch.Tensor | None:
        if style_of[target_id] != "normal":
            return None
        register = clip_register(load_audio(paths[prompt_id], mel.sample_rate)[0], mel, predictor.cfg)
        return predictor.generate(reader[target_id]["tokens"].long(), 0.0 if register is None else register)

    return f0_of


def main(argv: list[str] | None = None) -> int:
    from deepasmr.audio import load_audio
    from deepasmr.data.manifest import read_manifest
    from deepasmr.eval.report import emit_json
    from deepasmr.flow.io import load_flow
    from deepasmr.speaker.embedding import embed as embed_wav
    from deepasmr.vocoder import VocoderConfig, load_vocoder

    ap = argparse.ArgumentParser(description="Flow decoder alone (ground-truth tokens) on held-out speakers.")
    ap.add_argument("--flow", required=True, help="folder with flow.json + flow.safetensors")
    ap.add_argument("--shards", required=True)
    ap.add_argument("--corpus", required=True, help="corpus folder (manifest.jsonl + wavs) of the shards")
    ap.add_argument("--split", default="test")
    ap.add_argument("--per-group", type=int, default=4, help="reconstructions per style/language")
    ap.add_argument("--per-speaker", type=int, default=2, help="cross-style outputs per held-out speaker")
    ap.add_argument("--steps", type=int, default=None, help="ODE steps (default: the decoder config's)")
    ap.add_argument("--cfg-strength", type=float, default=None)
    ap.add_argument("--cfg-until", type=float, default=None, help="guide only the ODE steps that start before "
                    "this time (default: the decoder config's)")
    ap.add_argument("--phone-cfg-strength", type=float, default=None, help="phone guidance, with --phones "
                    "(default: the decoder config's)")
    ap.add_argument("--noise-scale", type=float, default=None,
                    help="starting-noise standard deviation for every style (default: the decoder config's per style)")
    ap.add_argument("--noise-sweep", metavar="S1,S2,...",
                    help="instead: reconstruction only, once per starting-noise scale (choose it on --split dev)")
    ap.add_argument("--styles", default="asmr,normal", help="reconstruct these styles (comma-separated)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-asr", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vocos", metavar="DIR", help="a Vocos folder as the vocoder (default: HiFi-GAN universal), "
                    "e.g. models/tiny/vocoder")
    ap.add_argument("--tokenizer", metavar="DIR", help="also score phone error rates through this tokenizer's CTC "
                    "head (the one whose codes the shards hold)")
    ap.add_argument("--phones", metavar="DIR", help="a decoder trained with phones gets each token's phone, aligned "
                    "by this tokenizer's CTC head (as a text-pointer LM would give them); default: none")
    ap.add_argument("--pitch", metavar="DIR", help="a decoder told F0 gets this F0 predictor's, around the prompt's "
                    "register, for normal-style targets (as synthesis does); default: none")
    ap.add_argument("--max-prompt-frames", type=int, default=None,
                    help="cut each prompt's mel to this many frames (default: the whole utterance)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    reader = ShardReader(args.shards)
    flow = load_flow(args.flow)
    vocoder = load_vocoder(VocoderConfig(kind="vocos", weights=args.vocos) if args.vocos else None)
    sr = vocoder.sample_rate
    paths = {r["id"]: Path(args.corpus) / r["path"] for r in read_manifest(Path(args.corpus) / "manifest.jsonl")}
    styles = set(args.styles.split(","))
    groups = _by_speaker_style([r for r in reader.index if r.get("split") == args.split and r["style"] in styles])

    def wav_of(row: dict) -> np.ndarray:
        return load_audio(paths[row["id"]], sr)[0]

    def embed(wav: np.ndarray) -> np.ndarray:
        return embed_wav(wav, sr)

    asr = None
    if not args.no_asr:
        from deepasmr.eval.asr import get_backend

        asr = get_backend(None, "en")
    phones = PhoneReader(args.tokenizer) if args.tokenizer else None
    told = _told_phones(flow, args.shards, args.split, args.phones) if args.phones else None
    if args.pitch and not flow.cfg.pitch_cond:
        from deepasmr.errors import DataError

        raise DataError("--pitch needs a decoder trained with F0 (FlowConfig.pitch_cond)")
    f0_of = _predicted_f0(args.pitch, reader, paths, flow.cfg.mel) if args.pitch else None
    if args.noise_sweep:
        sweep = {}
        for scale in (float(x) for x in args.noise_sweep.split(",")):
            decode = _Decoder(flow, vocoder, reader, args.seed, told, args.max_prompt_frames, f0_of, steps=args.steps,
                              cfg_strength=args.cfg_strength, cfg_until=args.cfg_until, noise_scale=scale,
                              phone_cfg_strength=args.phone_cfg_strength)
            sweep[str(scale)] = reconstruction(decode, groups, wav_of, embed, asr, args.per_group, sr, phones)
        emit_json({"split": args.split, "noise_sweep": sweep}, args.json)
        return 0
    sampling = {"steps": args.steps, "cfg_strength": args.cfg_strength, "cfg_until": args.cfg_until,
                "noise_scale": args.noise_scale, "phone_cfg_strength": args.phone_cfg_strength}
    decode = _Decoder(flow, vocoder, reader, args.seed, told, args.max_prompt_frames, f0_of, **sampling)
    defaults = {"steps": flow.cfg.steps, "cfg_until": flow.cfg.cfg_until,
                "phone_cfg_strength": flow.cfg.phone_cfg_strength,
                "cfg_strength": {s: flow.cfg.cfg_strength_for(s) for s in ("asmr", "normal")},
                "noise_scale": {s: flow.cfg.noise_scale_for(s) for s in ("asmr", "normal")}}
    report = {"split": args.split, "told_phones": told is not None, "told_f0": f0_of is not None,
              "max_prompt_frames": args.max_prompt_frames,
              **{k: defaults[k] if v is None else v for k, v in sampling.items()},
              "reconstruction": reconstruction(decode, groups, wav_of, embed, asr, args.per_group, sr, phones),
              "cross_style": cross_style(decode, groups, wav_of, embed, args.per_speaker, sr)
              if styles >= {"asmr", "normal"} else None}
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
