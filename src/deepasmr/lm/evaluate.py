"""Quality of the LM alone on held-out speakers, per (style, language):

- teacher-forced token accuracy and perplexity on the real target tokens, and again with another
  utterance's text (text reliance: does the LM read the text at all);
- generation: runaway rate (rows stopped by the max-length bound), generated/real length ratio, and through
  the tokenizer's CTC head the phone error rate (PER) of generated tokens, beside the PER of the real tokens
  (the tokenizer's own floor) and the share of tokens its style head calls ASMR;
- the auxiliary phone head's accuracy (now / next phone), for an LM trained with one and --tokenizer given;
- alignment: whether some attention head reads the text monotonically (`deepasmr.lm.alignment`), with a PNG
  of the best head on one utterance per group when --plots is given.

    python -m deepasmr.lm.evaluate --lm runs/lm/tiny/export --shards runs/shards/small --split test \\
        [--tokenizer runs/tokenizer/small/export] [--generate 40] [--prompt same|none|pool] [--alignment 8] \\
        [--plots DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from deepasmr.lm.data import PairDataset, Utterance, collate, read_shard_utterances, shard_phone_vocab
from deepasmr.lm.generate import LMRequest, generate
from deepasmr.lm.model import SpeechLM
from deepasmr.lm.sampling import DecodeConfig, repeats_too_often
from deepasmr.lm.text import PhoneTokenizer
from deepasmr.tokenizer.analysis import edit_distance

EVAL_BATCH = 16


def ras_trigger_rate(token_seqs: Sequence[Sequence[int]], window: int, tau: float) -> float:
    """Share of positions of *real* token sequences where repetition-aware sampling would resample: pick
    DecodeConfig.ras_window / ras_tau so that this stays small for the tokenizer in use."""
    hits = total = 0
    for seq in token_seqs:
        seq = list(seq)
        for i in range(1, len(seq)):
            hits += repeats_too_often(seq[i], seq[max(0, i - window) : i], window, tau)
            total += 1
    return hits / max(1, total)


def _groups(utts: Sequence[Utterance]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(utts):
        out[f"{u.style}/{u.language}"].append(i)
    return dict(sorted(out.items()))


def teacher_forced(model: SpeechLM, data: PairDataset, seed: int = 0, wrong_text: bool = False) -> dict[str, dict]:
    """Accuracy / perplexity of the real target tokens + eos, with the training-time prompt pairing.
    `wrong_text`: each item gets the text of the next utterance of its group instead of its own."""
    torch.manual_seed(seed)  # prompt draws
    out = {}
    for name, idx in _groups(data.utts).items():
        items = [data[i] for i in idx]
        if wrong_text:
            texts = [it["text"] for it in items]
            for it, text in zip(items, texts[1:] + texts[:1], strict=True):
                it["text"] = text
        nll = correct = count = 0
        for start in range(0, len(items), EVAL_BATCH):
            scores = model.score(collate(items[start : start + EVAL_BATCH], token_rate=1.0))
            nll, correct, count = nll + scores["nll_sum"], correct + scores["correct"], count + scores["count"]
        out[name] = {"token_acc": correct / count, "perplexity": float(torch.tensor(nll / count).exp()),
                     "tokens": count}
    return out


def text_reliance(model: SpeechLM, data: PairDataset, seed: int = 0, right: dict | None = None) -> dict[str, dict]:
    """How much the LM reads the text: teacher-forced accuracy and perplexity with the right text minus with
    another utterance's text (same prompts, same targets). Near zero: the tokens come from the speech history
    alone, and generated speech will not say the words. `right`: teacher_forced's result, if already run."""
    right = right or teacher_forced(model, data, seed)
    wrong = teacher_forced(model, data, seed, wrong_text=True)
    return {name: {"acc_right_text": right[name]["token_acc"], "acc_wrong_text": wrong[name]["token_acc"],
                   "perplexity_right_text": right[name]["perplexity"],
                   "perplexity_wrong_text": wrong[name]["perplexity"]} for name in right}


def phone_head_accuracy(model: SpeechLM, data: PairDataset) -> dict[str, dict]:
    """Teacher-forced accuracy of the auxiliary phone head (lm.phone_targets) per group: does the hidden
    state know which phone the next token speaks ("now") and which comes after it ("next": only the text can
    tell). `data` needs phone positions."""
    out = {}
    for name, idx in _groups(data.utts).items():
        items = [data[i] for i in idx]
        sums: dict[str, int] = defaultdict(int)
        for start in range(0, len(items), EVAL_BATCH):
            for key, value in model.phone_scores(collate(items[start : start + EVAL_BATCH], 1.0)).items():
                sums[key] += value
        out[name] = {"now_acc": sums["now_correct"] / max(1, sums["now_count"]),
                     "next_acc": sums["next_correct"] / max(1, sums["next_count"])}
    return out


def generation(
    model: SpeechLM,
    data: PairDataset,
    per_group: int,
    decode: DecodeConfig,
    seed: int = 0,
    tokens_to_phones: Callable[[list[torch.Tensor]], list[list[str]]] | None = None,
    tokens_to_style: Callable[[list[torch.Tensor]], list[float]] | None = None,
    prompt_for: Callable[[Utterance, int], tuple[list[int], list[int]]] | None = None,
) -> dict[str, dict]:
    """Generate the first `per_group` utterances of each group (prompt as in `data`, or `prompt_for(utt, k)`
    -> (prompt text ids, prompt speech ids); seeded)."""
    torch.manual_seed(seed)
    out = {}
    for name, idx in _groups(data.utts).items():
        items = [data[i] for i in idx[:per_group]]
        prompts = ([prompt_for(data.utts[i], k) for k, i in enumerate(idx[:per_group])] if prompt_for else
                   [(it["prompt_text"].tolist(), it["prompt_speech"].tolist()) for it in items])
        requests = [LMRequest(it["text"].tolist(), it["style"], *prompt)
                    for it, prompt in zip(items, prompts, strict=True)]
        result = generate(model, requests, decode, seed=seed)
        gen = [torch.tensor(t, dtype=torch.long) for t in result.tokens]
        real = [it["speech"] for it in items]
        row = {"n": len(items), "runaway_rate": sum(result.hit_max_len) / len(items),
               "length_ratio": sum(len(g) for g in gen) / max(1, sum(len(r) for r in real))}
        if tokens_to_phones is not None:
            refs = [data.utts[i].phones for i in idx[:per_group]]
            ref_len = sum(len(r) for r in refs)
            for key, tokens in (("per_generated", gen), ("per_real_tokens", real)):
                hyps = tokens_to_phones([t if len(t) else torch.zeros(1, dtype=torch.long) for t in tokens])
                row[key] = sum(edit_distance(r, h) for r, h in zip(refs, hyps, strict=True)) / ref_len
        if tokens_to_style is not None:
            styles = tokens_to_style([t for t in gen if len(t)])
            row["asmr_share_generated"] = sum(styles) / max(1, len(styles))
        out[name] = row
    return out


def _pool_prompts(pools_dir: str, model: SpeechLM) -> Callable[[Utterance, int], tuple[list[int], list[int]]]:
    """Round-robin over the pool entries of the target's style and language (their stored tokens)."""
    from deepasmr.lm.text import text_tokenizer
    from deepasmr.speaker.pool import load_pools

    pools, text = load_pools(pools_dir), text_tokenizer(model.cfg)

    def prompt_for(utt: Utterance, k: int) -> tuple[list[int], list[int]]:
        entries = [e for e in pools[utt.style].entries if e.language == utt.language and e.tokens]
        entry = entries[k % len(entries)]
        return text.encode(entry.text, entry.language), list(entry.tokens)

    return prompt_for


def main(argv: list[str] | None = None) -> int:
    from deepasmr.eval.report import emit_json
    from deepasmr.lm.io import load_lm

    ap = argparse.ArgumentParser(description="Evaluate a trained LM on a shard split (held-out speakers).")
    ap.add_argument("--lm", required=True, help="folder with lm.json + lm.safetensors")
    ap.add_argument("--shards", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--tokenizer", help="tokenizer folder: PER and style share of generated tokens")
    ap.add_argument("--generate", type=int, default=20, help="utterances generated per style/language (0: skip)")
    ap.add_argument("--prompt", choices=("same", "none", "pool"), default="same",
                    help="same: another utterance of the speaker in the target style; none: style token alone; "
                         "pool: a pool entry of the target style and language (a stranger, as in N2A), round-robin")
    ap.add_argument("--pools", default="models/tiny/pools", help="pool folder for --prompt pool")
    ap.add_argument("--alignment", type=int, default=8, help="utterances per style/language for the attention "
                    "probe (0: skip)")
    ap.add_argument("--plots", help="folder for one alignment PNG per style/language")
    defaults = DecodeConfig()
    for name in ("temperature", "top_k", "top_p", "ras_window", "ras_tau"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=type(getattr(defaults, name)),
                        default=getattr(defaults, name), help=f"decoding (default {getattr(defaults, name)})")
    ap.add_argument("--greedy", action="store_true", help="argmax decoding (no RAS: loops are not broken)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    model = load_lm(args.lm)
    utts = read_shard_utterances(args.shards, [args.split])
    encode = PhoneTokenizer(model.cfg.phones).encode_phones
    data = PairDataset(utts, lambda u: encode(u.phones), no_prompt_prob=float(args.prompt == "none"),
                       max_prompt_tokens=model.cfg.max_positions)
    decode = DecodeConfig(greedy=args.greedy, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                          ras_window=args.ras_window, ras_tau=args.ras_tau)
    if model.phone_head is not None or model.pointer is not None:
        # Phone positions of the real tokens: the phone head's labels, a text pointer's teacher-forced inputs.
        if not args.tokenizer:
            raise SystemExit("this LM has a phone head or text pointer: give --tokenizer (the one that wrote the "
                             "shards) to align its phones")
        from deepasmr.lm.phone_targets import token_phone_positions

        vocab_symbols = shard_phone_vocab(args.shards)
        data.phone_positions = token_phone_positions(args.tokenizer, vocab_symbols, utts)[0]
    report = {"split": args.split, "prompt": args.prompt, "decode": asdict(decode),
              "ras_trigger_rate_on_real_tokens": ras_trigger_rate([u.tokens.tolist() for u in utts],
                                                                  decode.ras_window, decode.ras_tau),
              "teacher_forced": teacher_forced(model, data, args.seed)}
    report["text_reliance"] = text_reliance(model, data, args.seed, report["teacher_forced"])
    to_phones = to_style = None
    if args.tokenizer:
        from deepasmr.tokenizer.io import load_tokenizer

        tok, vocab, _ = load_tokenizer(args.tokenizer)
        to_phones = lambda ts: [vocab.decode(ids) for ids in tok.tokens_to_phone_ids(ts)]  # noqa: E731
        to_style = tok.tokens_to_style
        if model.phone_head is not None:
            report["phone_head"] = phone_head_accuracy(model, data)
    prompt_for = _pool_prompts(args.pools, model) if args.prompt == "pool" else None
    if args.generate > 0:
        report["generation"] = generation(model, data, args.generate, decode, args.seed, to_phones, to_style,
                                          prompt_for)
    if args.alignment > 0 and model.pointer is not None:
        report["alignment"] = "not probed: a text-pointer LM is given its alignment (lm.pointer)"
    elif args.alignment > 0:
        from deepasmr.lm.alignment import alignment_report, plot_alignment

        groups = _groups(data.utts)
        report["alignment"] = alignment_report(model, data, groups, args.alignment)
        if args.plots:
            for name, idx in groups.items():
                plot_alignment(model, data[idx[0]], Path(args.plots) / f"alignment_{name.replace('/', '_')}.png",
                               title=name)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
