"""Probe (not committed): best of 8 drawn 4 + 4 from the two nearest pool entries, through eval-model in-process."""
import dataclasses
import sys

import numpy as np
import torch

import deepasmr.lm.rerank as rr
import deepasmr.speaker.select as sel
from deepasmr.lm.generate import LMOutput, generate
from deepasmr.pipeline.engine import DeepASMR

STATE = {}
orig_select = sel.select_entry
def select_entry(pool, query, language=None, config=sel.DEFAULT_SELECT):
    first = orig_select(pool, query, language, config)
    q = np.asarray(query, dtype=np.float64).ravel()
    idx = [i for i, e in enumerate(pool.entries)
           if e.id != first.entry.id and (language is None or e.language == language)]
    emb = pool.embeddings[idx].astype(np.float64)
    sims = emb @ q / (np.linalg.norm(emb, axis=1) * np.linalg.norm(q))
    e = pool.entries[idx[int(np.argmax(sims))]]
    second = sel.Prompt(audio=pool.audio_path(e), text=e.text, style=e.style, language=e.language, tokens=e.tokens)
    STATE["second"] = second, e.id
    return first
sel.select_entry = select_entry

orig_task_prompt = DeepASMR._task_prompt
def task_prompt(self, route, lang, clip_wav, clip_tokens, notes, transcribe, prompt_units=None, pools=None):
    ids = orig_task_prompt(self, route, lang, clip_wav, clip_tokens, notes, transcribe, prompt_units, pools)
    STATE["alt"] = None
    if route.mode == "virtual" and "second" in STATE:
        p2, id2 = STATE.pop("second")
        STATE["alt"] = orig_task_prompt(self, dataclasses.replace(route, task_prompt=p2, entry_id=id2), lang,
                                        clip_wav, clip_tokens, [], transcribe, prompt_units, pools)
    return ids
DeepASMR._task_prompt = task_prompt

orig_best_of = rr.best_of
def best_of(lm, tokenizer, requests, references, decode, candidates, seed=None):
    alt = STATE.get("alt")
    if alt is None or candidates == 1:
        return orig_best_of(lm, tokenizer, requests, references, decode, candidates, seed)
    alts = [dataclasses.replace(r, prompt_text=alt[0], prompt_speech=alt[1]) for r in requests]
    n = len(requests)
    gens = [torch.Generator().manual_seed(seed + j + c * n) for c in range(candidates) for j in range(n)]
    batch = [(requests if c % 2 == 0 else alts)[j] for c in range(candidates) for j in range(n)]
    out = generate(lm, batch, decode, generator=gens)
    chosen, choices = LMOutput(), []
    for j in range(n):
        rows = [j + c * n for c in range(candidates)]
        scores = rr.phone_scores(tokenizer, [out.tokens[r] for r in rows], references[j])
        w = min(range(candidates), key=lambda c: (scores[c], c))
        chosen.tokens.append(out.tokens[rows[w]])
        chosen.hit_max_len.append(out.hit_max_len[rows[w]])
        if out.text_positions:
            chosen.text_positions.append(out.text_positions[rows[w]])
        choices.append(rr.Choice(w, scores))
    return chosen, choices
rr.best_of = best_of

# Imported last, on purpose: the patches above are installed before the CLI is loaded.
from deepasmr.cli import main  # noqa: E402

sys.argv = ["deepasmr"] + sys.argv[1:]
main()
