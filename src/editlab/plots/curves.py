"""Figure: SME metrics against the number of edits, one line per method, band = interval across folds.

SR and GR are running means recomputed after every edit from edits.jsonl; ER, TrainR and TestR come
from the checkpoints in curve.jsonl (every `sme.checkpoint_every` edits and at the end of a fold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from editlab.plots.bands import mean_band, running_rates
from editlab.plots.style import method_style, paper_style, save_figure
from editlab.results.aggregate import check_one_protocol
from editlab.results.fold_outputs import read_curve, read_edits, read_summary
from editlab.results.settings import ReportSettings
from editlab.results.tables import task_label

PANELS = (
    ("SR", "SR (running mean)", "edits"),
    ("GR", "GR (running mean)", "edits"),
    ("ER", "ER (current model)", "curve"),
    ("TrainR", "TrainR (ratio to base)", "curve"),
    ("TestR", "TestR (ratio to base)", "curve"),
)
RATE_PANELS = {"SR", "GR", "ER"}


def draw_band(ax: Axes, band, style: Mapping[str, str], markers: bool) -> None:
    if band.empty:
        return
    ax.plot(band["x"], band["mean"], color=style["color"], linestyle=style["linestyle"],
            marker=style["marker"] if markers else None, markersize=3, label=style["label"])
    spread = band.dropna(subset=["low", "high"])
    if len(spread):
        ax.fill_between(spread["x"], spread["low"], spread["high"], color=style["color"], alpha=0.18,
                        linewidth=0)


def finish_panel(ax: Axes, metric: str, label: str) -> None:
    if not ax.lines:
        # e.g. TrainR/TestR are null when the base model scores 0: say so instead of an empty frame.
        ax.text(0.5, 0.5, f"{metric} undefined (null)\nin every fold", transform=ax.transAxes, ha="center",
                va="center", color="0.35")
        ax.set_xticks([])
    ax.set_xlabel("number of edits")
    ax.set_ylabel(label)
    if metric in RATE_PANELS:
        ax.set_ylim(-0.02, 1.04)
    else:
        ax.axhline(1.0, color="0.4", linewidth=0.8, linestyle=":", zorder=0)


def plot_sme_curves(task: str, runs: Mapping[str, Sequence[tuple[str | Path, str | Path]]],
                    settings: ReportSettings, pdf: str | Path, png: str | Path, profile: str,
                    summaries: Sequence[str | Path] = ()) -> None:
    """`runs` maps method -> [(edits.jsonl, curve.jsonl) per fold]; `summaries` are the same folds'
    summary.json files, whose protocols must agree since the curves are averaged across folds."""
    if summaries:
        check_one_protocol({str(p): read_summary(p)["protocol"] for p in summaries}, f"curves of {task}")
    with paper_style():
        fig = Figure(figsize=(settings.figure_width_in, settings.figure_width_in * 0.55), layout="constrained")
        axes = fig.subplots(2, 3).ravel()
        for position, (method, folds) in enumerate(runs.items()):
            style = method_style(method, position)
            edits = [running_rates(read_edits(e)) for e, _ in folds]
            curves = [read_curve(c) for _, c in folds]
            for ax, (metric, _label, source) in zip(axes, PANELS):
                frames = edits if source == "edits" else curves
                band = mean_band([(f["n_edits"].to_numpy(), f[metric].to_numpy()) for f in frames],
                                 settings.interval_level, settings.curve_min_fold_fraction)
                draw_band(ax, band, style, markers=source == "curve")
        for ax, (metric, label, _) in zip(axes, PANELS):
            finish_panel(ax, metric, label)
        legend_ax = axes[-1]
        legend_ax.axis("off")
        handles, labels = axes[0].get_legend_handles_labels()
        n_folds = max((len(f) for f in runs.values()), default=0)
        legend_ax.legend(handles, labels, loc="center", frameon=False,
                         title=f"{task_label(task)}, profile {profile}\n{n_folds} folds; band: "
                               f"{round(settings.interval_level * 100):g}% t-interval")
        save_figure(fig, pdf, png, settings.dpi)

