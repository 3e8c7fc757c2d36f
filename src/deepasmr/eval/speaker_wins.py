"""Per held-out speaker: is a system's output closer to that speaker's own real recordings in the output style
than to every other test speaker's? (Issue target for N2A: SIM to the own whisper above SIM to every other
speaker's whisper for >= 80 % of speakers.)

    python -m deepasmr.eval.speaker_wins --testset T.json --audio-root corpus/v1 --generated reports/e2e/EN_N2A

The speaker of an entry is the folder of its ground-truth file (`wavs/<speaker>/...`); the references of a
speaker are the ground truths of its first entries, less the output's own target (the same words would flatter
the own-speaker side). Outputs that cannot be scored (e.g. shorter than the embedder's minimum) are listed
under `unreadable` and left out, as `deepasmr eval` does.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np


def speaker_wins(testset: str, audio_root: str, generated: str, max_refs: int = 4) -> dict:
    from deepasmr.errors import AudioError
    from deepasmr.eval.testset import load_testset
    from deepasmr.speaker.embedding import cosine, embed_file

    root, gen = Path(audio_root), Path(generated)
    outputs, refs = defaultdict(list), defaultdict(list)  # speaker -> [(key, embedding)]
    unreadable = {}
    for entry in load_testset(testset):
        speaker, key = Path(entry["ground_truth"]).parent.name, str(entry["key"])
        if len(refs[speaker]) < max_refs + 1:
            refs[speaker].append((key, embed_file(root / entry["ground_truth"])))
        out = gen / f"{key}.wav"
        if out.is_file():
            try:
                outputs[speaker].append((key, embed_file(out)))
            except AudioError as err:
                unreadable[key] = str(err)

    def mean_sim(embs, speaker) -> float:
        pairs = [cosine(e, r) for k, e in embs for rk, r in refs[speaker] if rk != k]
        return float(np.mean(pairs))

    per = {}
    for s, embs in sorted(outputs.items()):
        sim = {o: mean_sim(embs, o) for o in refs}
        others = {o: v for o, v in sim.items() if o != s}
        best = max(others, key=others.get) if others else None
        per[s] = {"n": len(embs), "sim_own": sim[s], "best_other": best, "sim_best_other": others.get(best),
                  "wins": bool(others) and sim[s] > max(others.values())}
    wins = [p["wins"] for p in per.values()]
    return {"testset": testset, "generated": generated, "n_speakers": len(per),
            "win_rate": float(np.mean(wins)) if wins else None,
            "mean_sim_own": float(np.mean([p["sim_own"] for p in per.values()])) if per else None,
            "per_speaker": per, "unreadable": unreadable}


def main(argv: list[str] | None = None) -> int:
    from deepasmr.eval.report import emit_json
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--testset", required=True)
    ap.add_argument("--audio-root", required=True)
    ap.add_argument("--generated", required=True, help="folder of <key>.wav")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    report = speaker_wins(args.testset, args.audio_root, args.generated)
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
