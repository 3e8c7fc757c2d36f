"""The paper's soft-factorization analysis of a trained tokenizer (DESIGN.md §1), on held-out speakers.

Linear probes (standardised features, sklearn LogisticRegression) on *utterance-level* features, i.e.
mean and standard deviation over frames of: (a) the log-mel, (b) the pre-quantisation hidden states,
(c) the quantised token embeddings (the code vectors the post-bottleneck layers see), plus a bag-of-codes
histogram. STYLE probes are fit on training speakers and scored on held-out speakers; SPEAKER probes
are fit on half of each held-out speaker's utterances (both styles) and scored on the other half.
Also: per-token style purity (style predicted from the token id alone), codebook usage and perplexity on
held-out data, CTC phone error rate per style and language, and a t-SNE figure.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from deepasmr.atomic import save_figure
from deepasmr.audio import MelConfig
from deepasmr.tokenizer.dataset import mel_of_file, read_rows

HELD_OUT = ("dev", "test")


@dataclass
class AnalysisConfig:
    max_train_utts: int = 600  # training-speaker utterances for fitting the style probes
    probe_c: float = 1.0  # inverse L2 strength of the logistic regressions
    probe_max_iter: int = 3000
    seed: int = 0
    tsne_perplexity: float = 15.0


def edit_distance(a: list, b: list) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def _pool(x: torch.Tensor) -> np.ndarray:
    """(frames, dim) -> mean and std over frames."""
    return torch.cat([x.mean(0), x.std(0, unbiased=False)]).numpy()


@torch.no_grad()
def utterance_features(model, vocab, rows: list[dict], mel_cfg: MelConfig, desc: str) -> list[dict]:
    feats = []
    for row in tqdm(rows, desc=desc, leave=False):
        mel = mel_of_file(row["path"], mel_cfg)
        enc = model.encode_hidden(mel[None], torch.tensor([mel.shape[1]]))
        n = int(enc["lengths"][0])
        codes = enc["codes"][0, :n]
        emb = model.from_code(enc["quantised"][0, :n])
        hist = torch.bincount(codes, minlength=model.fsq.codebook_size).float() / n
        hyp = model.tokens_to_phone_ids([codes])[0]
        feats.append({
            "row": row, "codes": codes.numpy(), "mel": _pool(mel.T), "hidden": _pool(enc["hidden"][0, :n]),
            "tokens": _pool(emb), "bag_of_codes": hist.numpy(),
            "phone_errors": edit_distance(hyp, vocab.encode(row["phonemes"])),
            "phone_count": len(row["phonemes"].split()),
        })
    return feats


def _probe(cfg: AnalysisConfig, xtr, ytr, xte, yte) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=cfg.probe_c, max_iter=cfg.probe_max_iter))
    clf.fit(np.stack(xtr), ytr)
    return float((clf.predict(np.stack(xte)) == np.asarray(yte)).mean())


def _speaker_split(feats: list[dict], seed: int) -> tuple[list[int], list[int]]:
    """Half of each speaker's utterances (alternating within each style) to fit, the rest to score."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        groups[(f["row"]["speaker"], f["row"]["style"])].append(i)
    fit, score = [], []
    for key in sorted(groups):
        idx = rng.permutation(groups[key]).tolist()
        half = max(1, len(idx) // 2) if len(idx) > 1 else 0
        fit += idx[:half] if half else []
        score += idx[half:] if half else idx
    return fit, score


def run_probes(cfg: AnalysisConfig, train: list[dict], held: list[dict]) -> dict:
    out: dict = {}
    style_chance = max(Counter(f["row"]["style"] for f in held).values()) / len(held)
    fit, score = _speaker_split(held, cfg.seed)
    speakers = sorted({held[i]["row"]["speaker"] for i in fit})
    score = [i for i in score if held[i]["row"]["speaker"] in speakers]
    spk_chance = max(Counter(held[i]["row"]["speaker"] for i in score).values()) / max(len(score), 1)
    for name in ("mel", "hidden", "tokens", "bag_of_codes"):
        style = _probe(cfg, [f[name] for f in train], [f["row"]["style"] for f in train],
                       [f[name] for f in held], [f["row"]["style"] for f in held])
        spk = _probe(cfg, [held[i][name] for i in fit], [held[i]["row"]["speaker"] for i in fit],
                     [held[i][name] for i in score], [held[i]["row"]["speaker"] for i in score])
        out[name] = {"style_acc": round(style, 4), "speaker_acc": round(spk, 4)}
    out["chance"] = {"style": round(style_chance, 4), "speaker": round(spk_chance, 4),
                     "n_heldout_speakers": len(speakers), "n_heldout_utts": len(held),
                     "n_speaker_probe_fit": len(fit), "n_speaker_probe_score": len(score)}
    return out


def token_style_purity(train: list[dict], held: list[dict]) -> float:
    """Predict each held-out token's style from its id alone (majority style of that id on training
    speakers; unseen ids count as wrong). Measures whether style lives in every token."""
    votes: dict[int, Counter] = defaultdict(Counter)
    for f in train:
        for c in f["codes"].tolist():
            votes[c][f["row"]["style"]] += 1
    right = total = 0
    for f in held:
        for c in f["codes"].tolist():
            right += int(c in votes and votes[c].most_common(1)[0][0] == f["row"]["style"])
            total += 1
    return round(right / max(total, 1), 4)


def codebook_stats(feats: list[dict], codebook_size: int) -> dict:
    counts = np.bincount(np.concatenate([f["codes"] for f in feats]), minlength=codebook_size)
    p = counts[counts > 0] / counts.sum()
    perplexity = float(np.exp(-(p * np.log(p)).sum()))
    return {"usage": round(float((counts > 0).mean()), 4), "perplexity": round(perplexity, 1),
            "codebook_size": int(codebook_size), "n_tokens": int(counts.sum())}


def phone_error_rates(feats: list[dict]) -> dict:
    errs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in feats:
        for key in (f"{f['row']['style']}/{f['row']['language']}", f["row"]["style"], "all"):
            errs[key][0] += f["phone_errors"]
            errs[key][1] += f["phone_count"]
    return {k: round(e / max(n, 1), 4) for k, (e, n) in sorted(errs.items())}


def plot_projection(cfg: AnalysisConfig, held: list[dict], out_png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    names = ("mel", "hidden", "tokens")
    styles = [f["row"]["style"] for f in held]
    speakers = sorted({f["row"]["speaker"] for f in held})
    spk_idx = [speakers.index(f["row"]["speaker"]) for f in held]
    fig, axes = plt.subplots(2, len(names), figsize=(5 * len(names), 9))
    for col, name in enumerate(names):
        x = StandardScaler().fit_transform(np.stack([f[name] for f in held]))
        perplexity = min(cfg.tsne_perplexity, (len(held) - 1) / 3)
        xy = TSNE(2, perplexity=perplexity, random_state=cfg.seed, init="pca").fit_transform(x)
        for style, colour in (("normal", "tab:blue"), ("asmr", "tab:red")):
            sel = [i for i, s in enumerate(styles) if s == style]
            axes[0, col].scatter(xy[sel, 0], xy[sel, 1], s=12, c=colour, label=style)
        axes[0, col].legend(fontsize=8)
        axes[1, col].scatter(xy[:, 0], xy[:, 1], s=12, c=spk_idx, cmap="tab20")
        axes[0, col].set_title(f"{name}: coloured by style")
        axes[1, col].set_title(f"{name}: coloured by speaker ({len(speakers)})")
    fig.suptitle("t-SNE of utterance features, held-out speakers")
    fig.tight_layout()
    return save_figure(fig, out_png, dpi=100)


def analyze(model_dir: str | Path, manifest: str | Path, out_dir: str | Path,
            cfg: AnalysisConfig | None = None) -> dict:
    from deepasmr.tokenizer.io import load_tokenizer

    cfg = cfg or AnalysisConfig()
    model, vocab, meta = load_tokenizer(model_dir)
    mel_cfg = MelConfig(**meta["mel"])
    rows = read_rows(manifest)
    held_rows = [r for r in rows if r["split"] in HELD_OUT]
    train_rows = [r for r in rows if r["split"] == "train"]
    rng = np.random.default_rng(cfg.seed)
    if len(train_rows) > cfg.max_train_utts:
        train_rows = [train_rows[i] for i in sorted(rng.choice(len(train_rows), cfg.max_train_utts, replace=False))]
    held = utterance_features(model, vocab, held_rows, mel_cfg, "held-out")
    train = utterance_features(model, vocab, train_rows, mel_cfg, "train sample")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "model": str(model_dir), "manifest": str(manifest),
        "features": "utterance mean+std over frames; probes: StandardScaler + LogisticRegression",
        "probes": run_probes(cfg, train, held),
        "token_style_purity": token_style_purity(train, held),
        "codebook_heldout": codebook_stats(held, model.fsq.codebook_size),
        "phone_error_rate": phone_error_rates(held),
        "paper": {"speaker_acc_mel": 0.90, "speaker_acc_s3_hidden": 0.864, "speaker_chance": 0.028},
    }
    report["figure"] = str(plot_projection(cfg, held, out_dir / "tsne_style_speaker.png"))
    (out_dir / "analysis.json").write_text(json.dumps(report, indent=1))
    return report


def format_report(report: dict) -> str:
    p = report["probes"]
    ch = p["chance"]
    lines = [f"held-out: {ch['n_heldout_utts']} utterances, {ch['n_heldout_speakers']} speakers",
             f"{'features':<14}{'style acc':>10}{'speaker acc':>13}",
             *(f"{name:<14}{p[name]['style_acc']:>10.3f}{p[name]['speaker_acc']:>13.3f}"
               for name in ("mel", "hidden", "tokens", "bag_of_codes")),
             f"{'chance':<14}{ch['style']:>10.3f}{ch['speaker']:>13.3f}",
             "paper: speaker 0.90 on mel, 0.864 on S3 hidden states, 0.028 chance",
             f"per-token style purity (token id -> style): {report['token_style_purity']:.3f}",
             f"codebook on held-out: usage {report['codebook_heldout']['usage']:.3f}, perplexity "
             f"{report['codebook_heldout']['perplexity']} of {report['codebook_heldout']['codebook_size']}",
             "CTC phone error rate: " + ", ".join(f"{k} {v:.3f}" for k, v in report["phone_error_rate"].items()),
             f"figure: {report['figure']}"]
    return "\n".join(lines)
