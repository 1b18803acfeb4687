"""Paper-style tables (Markdown and LaTeX) from the long aggregated tables.

Main table: rows = methods, columns = SR/GR/ER/TrainR/TestR per task (the paper's layout).
Cost table: rows = task x method, columns = edits, seconds, patches and steps per edit, device-hours.
Cells read `mean ± h` with h the half-width of the interval across folds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from editlab.io import write_text
from editlab.results.aggregate import POOLED_METRICS
from editlab.results.fold_outputs import SUMMARY_METRICS

TASK_LABELS = {"fever": "FEVER", "zsre": "zsRE"}
METHOD_LABELS = {"tpatcher": "T-Patcher", "ft": "FT", "ftkl": "FT+KL"}
COST_COLUMNS = {
    "n_edits": ("edits / fold", "{:.1f}"),
    "seconds_per_edit": ("s / edit", "{:.3g}"),
    "patches_per_edit": ("patches / edit", "{:.2f}"),
    "steps_per_edit": ("steps / edit", "{:.1f}"),
    "device_hours_per_fold": ("device-h / fold", "{:.3g}"),
}


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def task_label(task: str) -> str:
    return TASK_LABELS.get(task, task)


@dataclass(frozen=True)
class RenderedTable:
    markdown: str
    latex: str
    html: str  # for the Snakemake report, which shows HTML but not Markdown


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    foot = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>table{border-collapse:collapse;"
            "font-family:sans-serif;font-size:13px}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body>"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>{foot}</body></html>\n")


@dataclass(frozen=True)
class Cell:
    mean: float
    half: float  # NaN when there is no interval (one fold)

    def text(self, fmt: str) -> str:
        if math.isnan(self.mean):
            return "—"
        if math.isnan(self.half):
            return fmt.format(self.mean)
        return f"{fmt.format(self.mean)} ± {fmt.format(self.half)}"

    def latex(self, fmt: str) -> str:
        if math.isnan(self.mean):
            return "--"
        if math.isnan(self.half):
            return f"${fmt.format(self.mean)}$"
        return f"${fmt.format(self.mean)}_{{\\pm {fmt.format(self.half)}}}$"


def _cells(table: pd.DataFrame) -> dict[tuple[str, str, str], Cell]:
    return {(r.task, r.method, r.metric): Cell(float(r.mean), float(r.ci_high - r.ci_low) / 2 if not
                                               pd.isna(r.ci_high) else math.nan)
            for r in table.itertuples()}


def _ordered(values: Sequence[str], preferred: Sequence[str]) -> list[str]:
    return [v for v in preferred if v in values] + sorted(v for v in values if v not in preferred)


def _caption_lines(table: pd.DataFrame, profile: str) -> list[str]:
    shown = table[~table["metric"].isin(list(POOLED_METRICS))]   # the pooled rows have no interval
    folds = sorted({int(n) for n in shown["n_folds"]})
    protocol = table["protocol"].iloc[0]
    interval = shown["interval"].iloc[0]
    return [f"Profile `{profile}`; mean ± half-width of the {interval} interval across folds "
            f"(folds per cell: {', '.join(map(str, folds))}); protocol `{protocol}`."]


AGGREGATION_NOTES = {
    "fold_mean": "SR and GR: per edit, then per fold, then the mean across folds (editlab's aggregation); the "
                 "reference's pooled SR/GR (get_res) are the SR_pooled/GR_pooled rows of sme.csv.",
    "pooled": "SR and GR pooled as the reference's get_res: SR over all edits of all folds, GR over all their "
              "rephrases (sum acc x n / sum n), no interval; ER, TrainR, TestR: mean across folds.",
}


def main_table(table: pd.DataFrame, methods: Sequence[str], tasks: Sequence[str], profile: str,
               aggregation: str = "fold_mean") -> RenderedTable:
    """The paper's main table. `aggregation` names how SR and GR are aggregated across folds: fold_mean
    (editlab's: mean of the per-fold means, with an interval) or pooled (the reference's get_res)."""
    if aggregation not in AGGREGATION_NOTES:
        raise ValueError(f"unknown aggregation {aggregation!r} (expected one of {', '.join(AGGREGATION_NOTES)})")
    cells = _cells(table)
    if aggregation == "pooled":
        for (task, method, metric), cell in list(cells.items()):
            if metric in POOLED_METRICS:
                cells[(task, method, metric.removesuffix("_pooled"))] = cell
    methods = _ordered(list(table["method"].unique()), methods)
    tasks = _ordered(list(table["task"].unique()), tasks)
    missing = Cell(math.nan, math.nan)
    header = ["Method"] + [f"{task_label(t)} {m}" for t in tasks for m in SUMMARY_METRICS]
    rows = [[method_label(method)] + [cells.get((t, method, m), missing).text("{:.3f}")
                                       for t in tasks for m in SUMMARY_METRICS] for method in methods]
    notes = [*_caption_lines(table, profile), AGGREGATION_NOTES[aggregation]]
    md = ["| " + " | ".join(header) + " |", "|" + "---|" + "---:|" * (len(header) - 1)]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    md += [""] + notes

    ncol = len(SUMMARY_METRICS)
    tex = [f"% editlab main SME table, profile {profile}; generated, do not edit; needs \\usepackage{{booktabs}}",
           "\\begin{tabular}{l" + ("r" * ncol) * len(tasks) + "}", "\\toprule",
           " & " + " & ".join(f"\\multicolumn{{{ncol}}}{{c}}{{{task_label(t)}}}" for t in tasks) + " \\\\",
           "".join(f"\\cmidrule(lr){{{2 + i * ncol}-{1 + (i + 1) * ncol}}}" for i in range(len(tasks))),
           "Method & " + " & ".join(m for _ in tasks for m in SUMMARY_METRICS) + " \\\\", "\\midrule"]
    for method in methods:
        row = [method_label(method)] + [cells.get((t, method, m), missing).latex("{:.3f}")
                                         for t in tasks for m in SUMMARY_METRICS]
        tex.append(" & ".join(row) + " \\\\")
    tex += ["\\bottomrule", "\\end{tabular}"]
    return RenderedTable("\n".join(md) + "\n", "\n".join(tex) + "\n", html_table(header, rows, notes))


def cost_table(table: pd.DataFrame, methods: Sequence[str], tasks: Sequence[str], profile: str) -> RenderedTable:
    """The cost table."""
    cells = _cells(table)
    methods = _ordered(list(table["method"].unique()), methods)
    tasks = _ordered(list(table["task"].unique()), tasks)
    missing = Cell(math.nan, math.nan)
    header = ["Task", "Method"] + [label for label, _ in COST_COLUMNS.values()]
    md = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * len(COST_COLUMNS)]
    rows = []
    tex = [f"% editlab SME cost table, profile {profile}; generated, do not edit; needs \\usepackage{{booktabs}}",
           "\\begin{tabular}{ll" + "r" * len(COST_COLUMNS) + "}", "\\toprule",
           " & ".join(header) + " \\\\", "\\midrule"]
    for task in tasks:
        for method in methods:
            if not any((task, method, m) in cells for m in COST_COLUMNS):
                continue
            values = [cells.get((task, method, m), missing) for m in COST_COLUMNS]
            fmts = [fmt for _, fmt in COST_COLUMNS.values()]
            rows.append([task_label(task), method_label(method)] + [c.text(f) for c, f in zip(values, fmts)])
            md.append("| " + " | ".join(rows[-1]) + " |")
            tex.append(" & ".join([task_label(task), method_label(method)]
                                  + [c.latex(f) for c, f in zip(values, fmts)]) + " \\\\")
    notes = [*_caption_lines(table, profile),
             "Device-hours = wall clock of the fold job (Snakemake benchmark), which holds one GPU "
             "(the CPU in a CPU-only run)."]
    md += ["", *notes]
    tex += ["\\bottomrule", "\\end{tabular}"]
    return RenderedTable("\n".join(md) + "\n", "\n".join(tex) + "\n", html_table(header, rows, notes))


def write_rendered(table: RenderedTable, markdown: str | Path, latex: str | Path, html_path: str | Path) -> None:
    write_text(markdown, table.markdown)
    write_text(latex, table.latex)
    write_text(html_path, table.html)
