"""Loss curves of a run as one PNG, merged over the CSV logs of every (resumed) segment."""

from __future__ import annotations

import csv
from pathlib import Path

from deepasmr.atomic import save_figure

SKIP_SUFFIXES = ("/lr", "audio_s_per_s", "perplexity")


def read_metrics(log_root: Path) -> dict[str, dict[int, float]]:
    """metric -> {step: value}; later segments (version_N) override earlier ones at the same step."""
    series: dict[str, dict[int, float]] = {}
    versions = sorted(log_root.glob("version_*"), key=lambda p: int(p.name.split("_")[-1]))
    for version in versions:
        path = version / "metrics.csv"
        if not path.is_file():
            continue
        with path.open() as fh:
            for row in csv.DictReader(fh):
                step = row.get("step")
                if not step:
                    continue
                for key, value in row.items():
                    if key in ("step", "epoch") or value in ("", None):
                        continue
                    series.setdefault(key, {})[int(float(step))] = float(value)
    return series


def plot_loss_curves(log_root: str | Path, out_png: str | Path, title: str = "") -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = read_metrics(Path(log_root))
    # Rates and counters have their own scales; everything else is a loss term or an accuracy.
    losses = {k: v for k, v in series.items() if not k.endswith(SKIP_SUFFIXES)}
    if not losses:
        return None
    # A second panel only for runs that log auxiliary terms (an empty one reads as a missing plot).
    panels = ("loss", "auxiliary terms") if any(k_is_aux(k) for k in losses) else ("loss",)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    axes = axes[0]
    for key, points in sorted(losses.items()):
        steps = sorted(points)
        ax = axes[-1] if k_is_aux(key) else axes[0]
        ax.plot(steps, [points[s] for s in steps], label=key, marker="o" if key.startswith("val") else None,
                markersize=3)
    for ax, name in zip(axes, panels, strict=True):
        ax.set_xlabel("optimizer step")
        ax.set_title(f"{title} {name}".strip())
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_png, dpi=110)


def k_is_aux(key: str) -> bool:
    return not key.endswith("/loss")
