"""Figure: thousands of edits in one stream (config/scale.yaml) — the paper's "up to thousands of edits".

Per task, ER / TrainR / TestR at the checkpoints of the long stream against the number of edits (T-Patcher
against FT), then the cost of the growing model: seconds per edit and the process's peak resident memory
against the number of patches (T-Patcher; FT, which adds none, against its number of edits). Seconds per
edit are a running median over windows of edits, since single edits vary with their number of steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from editlab.errors import DataFormatError
from editlab.io import read_jsonl
from editlab.plots.curves import finish_panel
from editlab.plots.style import method_style, paper_style, save_figure
from editlab.results.fold_outputs import read_curve, read_edits
from editlab.results.settings import ReportSettings
from editlab.results.tables import task_label

METRIC_PANELS = (
    ("ER", "ER (current model)"),
    ("TrainR", "TrainR (ratio to base)"),
    ("TestR", "TestR (ratio to base)"),
)
WINDOWS = 40   # the running median of seconds per edit spans 1/WINDOWS of the stream


def edit_costs(edits_path: str | Path) -> pd.DataFrame:
    """One row per edit of a stream: edit number (1-based), patches after it, seconds, peak RSS (MiB, NaN
    in a log written before the field existed). `n_patches` falls back to the running sum of n_neurons."""
    read_edits(edits_path)   # the contract checks, with their file and line in the message
    rows = [row for _, row in read_jsonl(edits_path) if row["was_error"]]
    frame = pd.DataFrame({
        "edit": np.arange(1, len(rows) + 1),
        "n_patches": np.cumsum([int(r["n_neurons"]) for r in rows]) if rows else np.zeros(0, int),
        "seconds": [float(r["seconds"]) for r in rows],
        "peak_rss_mb": [float(r["peak_rss_mb"]) if r.get("peak_rss_mb") is not None else np.nan for r in rows],
    })
    logged = [r.get("n_patches") for r in rows]
    if rows and all(v is not None for v in logged):
        if list(logged) != frame["n_patches"].tolist():
            raise DataFormatError(edits_path, "key 'n_patches' is not the running sum of 'n_neurons'")
    return frame


def cost_growth(costs: pd.DataFrame, fraction: float = 0.1) -> dict[str, Any]:
    """Mean seconds per edit over the first and the last `fraction` of the edits, and their ratio (the
    per-edit cost growth the scale profile reports; docs/scaling.md)."""
    n = len(costs)
    if n == 0:
        return {"n_edits": 0, "first": None, "last": None, "ratio": None}
    width = max(1, int(round(fraction * n)))
    first, last = float(costs["seconds"].iloc[:width].mean()), float(costs["seconds"].iloc[-width:].mean())
    return {"n_edits": n, "first": first, "last": last, "ratio": last / first if first > 0 else None,
            "patches_first": int(costs["n_patches"].iloc[width - 1]), "patches_last": int(costs["n_patches"].iloc[-1])}


def seconds_at_patches(costs: pd.DataFrame, points: Sequence[int], window: int = 50) -> dict[int, float | None]:
    """Mean seconds per edit of the `window` edits around the one after which the stream had `point` patches."""
    out: dict[int, float | None] = {}
    for point in points:
        reached = np.nonzero(costs["n_patches"].to_numpy() >= point)[0]
        if not len(reached):
            out[point] = None
            continue
        centre = int(reached[0])
        lo, hi = max(0, centre - window // 2), min(len(costs), centre + window // 2 + 1)
        out[point] = float(costs["seconds"].iloc[lo:hi].mean())
    return out


def _cost_x(method: str, costs: pd.DataFrame) -> np.ndarray:
    """T-Patcher's cost against its patches; FT adds none, so against its edits."""
    return costs["n_patches"].to_numpy() if method == "tpatcher" else costs["edit"].to_numpy()


def plot_scale_stream(runs: Mapping[str, Mapping[str, tuple[str | Path, str | Path]]], methods: Sequence[str],
                      settings: ReportSettings, pdf: str | Path, png: str | Path, profile: str) -> None:
    """`runs` maps task -> method -> (edits.jsonl, curve.jsonl) of the long stream."""
    tasks = list(runs)
    n_cols = len(METRIC_PANELS) + 2
    with paper_style():
        fig = Figure(figsize=(settings.figure_width_in * 1.15, 0.3 * settings.figure_width_in * len(tasks) + 0.6),
                     layout="constrained")
        axes = fig.subplots(len(tasks), n_cols, squeeze=False)
        for row, task in enumerate(tasks):
            seconds_ax, memory_ax = axes[row, len(METRIC_PANELS)], axes[row, len(METRIC_PANELS) + 1]
            for position, method in enumerate(m for m in methods if m in runs[task]):
                style = method_style(method, position)
                edits_path, curve_path = runs[task][method]
                curve = read_curve(curve_path)
                for col, (metric, _) in enumerate(METRIC_PANELS):
                    if curve[metric].isna().all():
                        continue
                    axes[row, col].plot(curve["n_edits"], curve[metric], color=style["color"],
                                        linestyle=style["linestyle"], marker=style["marker"], markersize=2.5,
                                        markevery=max(1, len(curve) // 12), label=style["label"])
                costs = edit_costs(edits_path)
                if not len(costs):
                    continue
                x = _cost_x(method, costs)
                window = max(1, len(costs) // WINDOWS)
                median = costs["seconds"].rolling(window, center=True, min_periods=1).median()
                seconds_ax.plot(x, median, color=style["color"], linestyle=style["linestyle"], label=style["label"])
                growth = cost_growth(costs)
                if growth["ratio"] is not None:
                    seconds_ax.annotate(f"{style['label']}: last/first 10% = {growth['ratio']:.2f}x",
                                        xy=(0.02, 0.97 - 0.09 * position), xycoords="axes fraction", va="top",
                                        fontsize=6, color=style["color"])
                if costs["peak_rss_mb"].notna().any():
                    memory_ax.plot(x, costs["peak_rss_mb"], color=style["color"], linestyle=style["linestyle"],
                                   label=style["label"])
            for col, (metric, label) in enumerate(METRIC_PANELS):
                finish_panel(axes[row, col], metric, label)
                axes[row, col].set_title(task_label(task))
            for ax, label in ((seconds_ax, "seconds per edit (running median)"), (memory_ax, "peak RSS (MiB)")):
                ax.set_xlabel("patches (T-Patcher) / edits (FT)")
                ax.set_ylabel(label)
                ax.set_title(task_label(task))
                ax.set_ylim(bottom=0)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=max(1, len(labels)), frameon=False,
                   title=f"one long stream per task, profile {profile}")
        save_figure(fig, pdf, png, settings.dpi)
