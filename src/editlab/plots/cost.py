"""Figure: cost per edit by method and execution path (cached vs reference full forward).

Boxes: seconds of each edit from the edit logs (edited examples only), coloured by the `path` the
fold ran on. Black diamonds: each fold job's wall clock (Snakemake benchmark) divided by its number
of edits, i.e. the cost including evaluation and setup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from editlab.plots.style import PATH_COLORS, paper_style, save_figure
from editlab.results.fold_outputs import read_benchmark_seconds, read_edits, read_summary
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


def plot_cost(runs: Mapping[str, Mapping[str, Sequence[tuple[str | Path, str | Path, str | Path]]]],
              settings: ReportSettings, pdf: str | Path, png: str | Path, profile: str) -> None:
    per_edit, per_fold = cost_frames(runs)
    tasks = list(runs)
    order = list(dict.fromkeys(method_label(m) for t in runs.values() for m in t))
    paths = sorted(set(per_edit["path"]) | set(per_fold["path"]))
    palette = {p: PATH_COLORS.get(p, "#CC79A7") for p in paths}
    with paper_style():
        fig = Figure(figsize=(settings.figure_width_in, settings.figure_width_in * 0.38), layout="constrained")
        axes = fig.subplots(1, len(tasks), squeeze=False)[0]
        for ax, task in zip(axes, tasks):
            edits = per_edit[per_edit["task"] == task]
            if len(edits):
                sns.boxplot(data=edits, x="method", y="seconds", hue="path", order=order, hue_order=paths,
                            palette=palette, ax=ax, fliersize=1.5, linewidth=0.8, log_scale=True, legend=False)
            folds = per_fold[per_fold["task"] == task]
            if len(folds):
                sns.stripplot(data=folds, x="method", y="seconds", hue="path", order=order, hue_order=paths,
                              dodge=len(paths) > 1, palette={p: "black" for p in paths}, marker="D", size=3.5,
                              jitter=0.08, ax=ax, legend=False)
            ax.set_title(task_label(task))
            ax.set_xlabel("method")
            ax.set_ylabel("seconds per edit (log scale)")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        handles = [Line2D([], [], color=palette[p], marker="s", linestyle="none", markersize=7,
                          label=f"per edit, {p} path (edit log)") for p in paths]
        handles.append(Line2D([], [], color="black", marker="D", linestyle="none", markersize=4,
                              label="fold job wall clock / edits (benchmark)"))
        fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False,
                   title=f"cost per edit, profile {profile}")
        save_figure(fig, pdf, png, settings.dpi)
