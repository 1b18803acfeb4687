"""Figure: cost per edit by method and execution path (cached vs reference full forward).

Boxes: seconds of each edit from the edit logs (edited examples only), coloured by the `path` the
fold ran on. Black diamonds: each fold job's wall clock (Snakemake benchmark) divided by its number
of edits, i.e. the cost including evaluation and setup. Optional last panel: the reference vs cached
seconds per edit measured side by side by `benchmarks/edit_speed.py`, with their ratio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from editlab.plots.style import PATH_COLORS, paper_style, save_figure
from editlab.results.fold_outputs import read_benchmark_seconds, read_edit_speed, read_edits, read_summary
from editlab.results.settings import ReportSettings
from editlab.results.tables import method_label, task_label


def cost_frames(runs: Mapping[str, Mapping[str, Sequence[tuple[str | Path, str | Path, str | Path]]]]
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-edit seconds, per-fold benchmark seconds per edit) from task -> method -> [(edits, summary, bench)]."""
    per_edit, per_fold = [], []
    for task, methods in runs.items():
        for method, folds in methods.items():
            for edits_path, summary_path, bench_path in folds:
                summary = read_summary(summary_path)
                path = str(summary.get("path", "unknown"))
                edits = read_edits(edits_path)
                edited = edits[edits["was_error"].astype(bool)] if len(edits) else edits
                for seconds in pd.to_numeric(edited["seconds"]) if len(edited) else []:
                    per_edit.append({"task": task, "method": method_label(method), "path": path,
                                     "seconds": float(seconds)})
                if summary["n_edits"]:
                    per_fold.append({"task": task, "method": method_label(method), "path": path,
                                     "seconds": read_benchmark_seconds(bench_path) / summary["n_edits"]})
    return pd.DataFrame(per_edit, columns=["task", "method", "path", "seconds"]), \
        pd.DataFrame(per_fold, columns=["task", "method", "path", "seconds"])


# edit_speed.py cases: the mini models and base-sized (BERT-/BART-base) random-weight models.
SPEED_LABELS = {"fever": "FEVER\nmini", "zsre": "zsRE\nmini", "fever_base": "FEVER\nbase", "zsre_base": "zsRE\nbase"}


def log_ticks(ax: Axes) -> None:
    """Plain numbers at 1-2-5 steps instead of 10^k labels on a log axis."""
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def draw_edit_speed(ax: Axes, path: str | Path) -> None:
    speed = read_edit_speed(path)
    cases = list(speed)
    width = 0.38
    for shift, (key, label) in zip((-width / 2, width / 2), (("reference_s_per_edit", "reference"),
                                                             ("cached_s_per_edit", "cached"))):
        ax.bar([i + shift for i in range(len(cases))], [speed[c][key] for c in cases], width=width,
               color=PATH_COLORS[label], edgecolor="0.3", linewidth=0.5)
    for i, case in enumerate(cases):
        top = max(speed[case]["reference_s_per_edit"], speed[case]["cached_s_per_edit"])
        ax.annotate(f"×{speed[case]['ratio']:.1f}", (i, top), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 3)  # room for the ratio labels
    log_ticks(ax)
    ax.set_xticks(range(len(cases)), [SPEED_LABELS.get(c, c) for c in cases])
    ax.set_title("edit_speed.py: reference ÷ cached")
    ax.set_xlabel("case")
    ax.set_ylabel("seconds per edit (log scale)")


def plot_cost(runs: Mapping[str, Mapping[str, Sequence[tuple[str | Path, str | Path, str | Path]]]],
              settings: ReportSettings, pdf: str | Path, png: str | Path, profile: str,
              edit_speed: str | Path | None = None) -> None:
    per_edit, per_fold = cost_frames(runs)
    tasks = list(runs)
    order = list(dict.fromkeys(method_label(m) for t in runs.values() for m in t))
    paths = sorted(set(per_edit["path"]) | set(per_fold["path"]) | ({"cached", "reference"} if edit_speed else set()))
    palette = {p: PATH_COLORS.get(p, "#CC79A7") for p in paths}
    with paper_style():
        fig = Figure(figsize=(settings.figure_width_in, settings.figure_width_in * 0.38), layout="constrained")
        axes = fig.subplots(1, len(tasks) + bool(edit_speed), squeeze=False)[0]
        for ax, task in zip(axes, tasks):
            edits = per_edit[per_edit["task"] == task]
            ax.set_title(task_label(task))
            if not len(edits) and not len(per_fold[per_fold["task"] == task]):
                # the base model was right on every visited example: nothing to time (and no log axis to draw)
                ax.text(0.5, 0.5, "no edits", ha="center", va="center", transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            if len(edits):
                sns.boxplot(data=edits, x="method", y="seconds", hue="path", order=order, hue_order=paths,
                            palette=palette, ax=ax, fliersize=1.5, linewidth=0.8, log_scale=True, legend=False)
            folds = per_fold[per_fold["task"] == task]
            if len(folds):
                sns.stripplot(data=folds, x="method", y="seconds", hue="path", order=order, hue_order=paths,
                              dodge=len(paths) > 1, palette={p: "black" for p in paths}, marker="D", size=3.5,
                              jitter=0.08, ax=ax, legend=False)
            ax.set_xlabel("method")
            ax.set_ylabel("seconds per edit (log scale)")
            log_ticks(ax)
        if edit_speed:
            draw_edit_speed(axes[-1], edit_speed)
        handles = [Line2D([], [], color=palette[p], marker="s", linestyle="none", markersize=7,
                          label=f"{p} path") for p in paths]
        handles.append(Line2D([], [], color="black", marker="D", linestyle="none", markersize=4,
                              label="fold job wall clock / edits (benchmark)"))
        fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False,
                   title=f"cost per edit, profile {profile}; boxes = single edits (edit logs), colour = path")
        save_figure(fig, pdf, png, settings.dpi)
