"""Tokens per second of KV-cached decoding vs the no-cache reference loop, tiny LM preset, this CPU.

    .venv/bin/python benchmarks/lm.py [--new-tokens 200] [--batch 1 4] [--threads 1] [--precision fp32|bf16|auto]

Random weights (speed does not depend on training); eos is disabled so every run decodes exactly
--new-tokens tokens after a realistic prefix (task prompt text + speech tokens + target text).
"""

from __future__ import annotations

import argparse
import time

import torch

from deepasmr.lm import DecodeConfig, LMRequest, SpeechLM, generate, lm_preset
from deepasmr.lm.text import PhoneTokenizer
from deepasmr.precision import PRECISIONS

PHONE_SET = 80  # about the size of the en + zh espeak phone inventory
FORBID = -1e9


def _requests(cfg, n: int, text_len: int, prompt_text_len: int, prompt_speech_len: int, seed: int):
    g = torch.Generator().manual_seed(seed)

    def ids(high, length):
        return torch.randint(1, high, (length,), generator=g).tolist()

    return [
        LMRequest(text=ids(cfg.text_vocab_size, text_len), style="asmr",
                  prompt_text=ids(cfg.text_vocab_size, prompt_text_len),
                  prompt_speech=ids(cfg.speech_vocab_size, prompt_speech_len))
        for _ in range(n)
    ]


def _rate(model, requests, decode, use_cache: bool) -> tuple[float, float]:
    start = time.perf_counter()
    out = generate(model, requests, decode, use_cache=use_cache, seed=0)
    seconds = time.perf_counter() - start
    return sum(len(t) for t in out.tokens) / seconds, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new-tokens", type=int, default=200)
    ap.add_argument("--batch", type=int, nargs="+", default=[1], help="one run per batch size")
    ap.add_argument("--text-len", type=int, default=40)
    ap.add_argument("--prompt-text-len", type=int, default=30)
    ap.add_argument("--prompt-speech-len", type=int, default=75)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-nocache", action="store_true")
    ap.add_argument("--precision", choices=PRECISIONS, default="fp32",
                    help="the KV-cached path's matrix products (the no-cache reference stays fp32)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    symbols = PhoneTokenizer.vocabulary([[f"ph{i}" for i in range(PHONE_SET)]])
    model = SpeechLM.from_config(lm_preset("tiny").with_phones(symbols)).eval()
    with torch.no_grad():
        model.speech_head.bias[model.cfg.eos_label] = FORBID
    # max_tokens_per_text must not cut the run short: the decode cap alone sets the length.
    model.cfg.max_tokens_per_text = float(args.new_tokens)
    decode = DecodeConfig(top_k=25, top_p=0.8, max_new_tokens=args.new_tokens, precision=args.precision)
    prefix = 3 + args.text_len + args.prompt_text_len + args.prompt_speech_len
    print(f"tiny LM: {model.num_parameters() / 1e6:.2f}M params, threads={args.threads}, prefix={prefix}, "
          f"new tokens={args.new_tokens}, precision {args.precision}")
    warm = _requests(model.cfg, 1, args.text_len, args.prompt_text_len, args.prompt_speech_len, 0)
    _rate(model, warm, DecodeConfig(max_new_tokens=2), use_cache=True)
    for batch in args.batch:
        requests = _requests(model.cfg, batch, args.text_len, args.prompt_text_len, args.prompt_speech_len, 0)
        cached, cached_s = _rate(model, requests, decode, use_cache=True)
        line = f"batch {batch:3d}: KV cache {cached:8.1f} tokens/s ({cached_s:6.2f} s)"
        if not args.skip_nocache:
            uncached, uncached_s = _rate(model, requests, decode, use_cache=False)
            line += f" | no cache {uncached:8.1f} tokens/s ({uncached_s:6.2f} s) | speed-up {cached / uncached:5.1f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
