"""Figure: scaling to thousands of edits — one long stream over all edits of a task, T-Patcher vs FT.

Success is tracked as the running SR; retention as ER (all edits so far), TrainR and TestR at the
checkpoints of the single long stream (no folds, hence no band).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from editlab.plots.bands import running_rates
from editlab.plots.curves import finish_panel
from editlab.plots.style import method_style, paper_style, save_figure
from editlab.results.fold_outputs import read_curve, read_edits
from editlab.results.settings import ReportSettings
from editlab.results.tables import task_label

PANELS = (
    ("SR", "SR (running mean)"),
    ("ER", "ER (current model)"),
    ("TrainR", "TrainR (ratio to base)"),
    ("TestR", "TestR (ratio to base)"),
)


def plot_long_stream(runs: Mapping[str, Mapping[str, tuple[str | Path, str | Path]]], methods: Sequence[str],
                     settings: ReportSettings, pdf: str | Path, png: str | Path, profile: str) -> None:
    """`runs` maps task -> method -> (edits.jsonl, curve.jsonl) of the long stream."""
    tasks = list(runs)
    with paper_style():
        fig = Figure(figsize=(settings.figure_width_in, 0.3 * settings.figure_width_in * len(tasks) + 0.5),
                     layout="constrained")
        axes = fig.subplots(len(tasks), len(PANELS), squeeze=False)
        for row, task in enumerate(tasks):
            for position, method in enumerate(m for m in methods if m in runs[task]):
                style = method_style(method, position)
                edits_path, curve_path = runs[task][method]
                running = running_rates(read_edits(edits_path))
                curve = read_curve(curve_path)
                for col, (metric, _) in enumerate(PANELS):
                    frame = running if metric == "SR" else curve
                    if frame[metric].isna().all():
                        continue
                    axes[row, col].plot(frame["n_edits"], frame[metric], color=style["color"],
                                        linestyle=style["linestyle"],
                                        marker=None if metric == "SR" else style["marker"], markersize=2.5,
                                        markevery=max(1, len(frame) // 12), label=style["label"])
            for col, (metric, label) in enumerate(PANELS):
                finish_panel(axes[row, col], metric, label)
                axes[row, col].set_title(task_label(task))
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=max(1, len(labels)), frameon=False,
                   title=f"one stream over all edit examples, profile {profile}")
        save_figure(fig, pdf, png, settings.dpi)
