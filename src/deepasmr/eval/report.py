"""Reports of `evaluate_testset` results: Markdown table, JSON and a bar chart."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from deepasmr.atomic import save_figure, write_text_atomic

SYSTEM_LABELS = {"generated": "generated", "ground_truth": "ground truth"}
# (result key, column title, shown as percent)
COLUMNS = (
    ("r_uv_global", "R_UV global", True),
    ("r_uv_mean", "R_UV mean", True),
    ("sim_to_ground_truth", "SIM→GT", False),
    ("sim_to_prompt", "SIM→prompt", False),
    ("pitch_off_gt", "F0 off GT", True),
    ("error_rate", "{unit}", True),
    ("error_rate_capped", "{unit} capped", True),
    ("phone_error_rate", "PER (tokenizer)", True),
)


@dataclass(frozen=True)
class ChartConfig:
    width_per_task_in: float = 5.0
    height_in: float = 4.0
    dpi: int = 110
    bar_width: float = 0.38


def format_value(value, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def unit_name(result: dict) -> str:
    return "CER" if result.get("unit") == "char" else "WER"


def _columns(results: list[dict]) -> tuple:
    """COLUMNS, less the phone error rate when no result was read with a phone reader."""
    has_per = any(r.get("phone_reader") for r in results)
    return tuple(c for c in COLUMNS if has_per or c[0] != "phone_error_rate")


def render_markdown(results: list[dict]) -> str:
    lines = ["# DeepASMR evaluation", ""]
    unit = "/".join(sorted({unit_name(r) for r in results})) or "WER"
    columns = _columns(results)
    header = ["task", "system", "n"] + [title.format(unit=unit) for _, title, _ in columns]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        for system, label in SYSTEM_LABELS.items():
            values = result["systems"][system]
            cells = [result["task"], label, str(values["n_utterances"])]
            cells += [format_value(values.get(key), pct) for key, _, pct in columns]
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for result in results:
        note = (
            f"- {result['task']}: {result['n_evaluated']} of {result['n_entries']} entries evaluated; "
            f"{result['n_missing']} generated files missing, {result['n_failed']} unreadable "
            f"({unit_name(result)} by {result['asr_model']}, language {result['language']}"
            + (f"; PER by the CTC head of {result['phone_reader']}" if result.get("phone_reader") else "")
            + ")."
        )
        lines.append(note)
        for failure in result["failures"][:5]:
            lines.append(f"  - {failure['key']}: {'; '.join(failure['errors'])}")
    lines += [
        "",
        "R_UV: share of active frames PYIN calls unvoiced (global = frames pooled over the set). "
        "SIM: resemblyzer cosine. Ground-truth rows: the reference recordings scored the same way.",
    ]
    return "\n".join(lines) + "\n"


def plot_results(results: list[dict], out: str | os.PathLike, chart: ChartConfig = ChartConfig()) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k, _, _ in _columns(results) if k not in ("r_uv_mean", "error_rate")]
    fig, axes = plt.subplots(
        1, len(results), figsize=(chart.width_per_task_in * len(results), chart.height_in), squeeze=False
    )
    for ax, result in zip(axes[0], results, strict=True):
        x = np.arange(len(keys))
        for i, (system, label) in enumerate(SYSTEM_LABELS.items()):
            values = [result["systems"][system].get(k) for k in keys]
            heights = [v if v is not None else 0.0 for v in values]
            ax.bar(x + (i - 0.5) * chart.bar_width, heights, chart.bar_width, label=label)
        titles = {k: t.format(unit=unit_name(result)) for k, t, _ in COLUMNS}
        ax.set_xticks(x, [titles[k] for k in keys], rotation=20)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{result['task']} (n={result['n_evaluated']})")
        ax.legend(fontsize="small")
    fig.tight_layout()
    return save_figure(fig, out, chart.dpi)


def emit_json(report: dict, path: str | os.PathLike | None = None) -> str:
    """Print a stage report as JSON and, when `path` is given, also write it there (atomically)."""
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if path:
        write_text_atomic(Path(path), text + "\n")
    return text


def write_report(results: list[dict], out_dir: str | os.PathLike, stem: str = "eval") -> dict[str, Path]:
    """Write <stem>.json (everything, per utterance included), <stem>.md and <stem>.png into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md", "png": out_dir / f"{stem}.png"}
    write_text_atomic(paths["json"], json.dumps(results, indent=2, ensure_ascii=False))
    write_text_atomic(paths["md"], render_markdown(results))
    plot_results(results, paths["png"])
    return paths
