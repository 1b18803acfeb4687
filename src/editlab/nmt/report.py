"""Aggregate NMT summaries into a long table, a Markdown + LaTeX table, and a figure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from editlab.errors import DataFormatError
from editlab.io import read_json, write_text

TABLE_METRICS = ("efficacy", "generalization", "specificity", "bleu_before", "bleu_after", "chrf_before",
                 "chrf_after", "seconds_per_edit")
REQUIRED = ("efficacy", "generalization", "specificity", "bleu_before", "bleu_after", "seconds_per_edit")


def load_summaries(paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        summary = read_json(path)
        missing = [k for k in (*REQUIRED, "task", "method", "protocol") if k not in summary]
        if missing:
            raise DataFormatError(path, f"summary lacks keys {missing}")
        rows.append(summary)
    return rows


def long_rows(summaries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"task": s["task"], "method": s["method"], "protocol": s["protocol"], "metric": m, "value": s.get(m)}
            for s in summaries for m in TABLE_METRICS]


def write_long_csv(path: str | os.PathLike[str], summaries: Sequence[dict[str, Any]]) -> None:
    lines = ["task,method,protocol,metric,value"]
    for r in long_rows(summaries):
        value = "" if r["value"] is None else f"{r['value']:.6g}"
        lines.append(f"{r['task']},{r['method']},{r['protocol']},{r['metric']},{value}")
    write_text(path, "\n".join(lines) + "\n")


def _fmt(value: Any, metric: str) -> str:
    if value is None:
        return "–"
    if metric.startswith(("bleu", "chrf")):
        return f"{value:.1f}"
    if metric == "seconds_per_edit":
        return f"{value:.2f}"
    return f"{value:.2f}"


def _grid(summaries: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["task", "method", "protocol", "Eff.", "Gen.", "Spec.", "BLEU before", "BLEU after", "chrF before",
              "chrF after", "s/edit"]
    body = [[s["task"], s["method"], s["protocol"], *(_fmt(s.get(m), m) for m in TABLE_METRICS)]
            for s in sorted(summaries, key=lambda s: (s["task"], s["protocol"], s["method"]))]
    return header, body


def write_markdown(path: str | os.PathLike[str], summaries: Sequence[dict[str, Any]], title: str) -> None:
    header, body = _grid(summaries)
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    write_text(path, "\n".join(lines) + "\n")


def write_latex(path: str | os.PathLike[str], summaries: Sequence[dict[str, Any]], caption: str) -> None:
    header, body = _grid(summaries)
    esc = lambda s: s.replace("_", r"\_").replace("&", r"\&")  # noqa: E731
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{lll" + "r" * (len(header) - 3) + "}", r"\toprule",
             " & ".join(esc(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(c) for c in row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{esc(caption)}}}", r"\end{table}"]
    write_text(path, "\n".join(lines) + "\n")


NMT_METHOD_STYLE = {   # Okabe-Ito colours plus hatches: colour-blind safe and readable in greyscale
    "rome": {"color": "#0072B2", "hatch": "", "label": "ROME"},
    "r-rome": {"color": "#56B4E9", "hatch": "//", "label": "r-ROME"},
    "ft": {"color": "#D55E00", "hatch": "..", "label": "FT (same layer)"},
    "tpatcher": {"color": "#009E73", "hatch": "xx", "label": "T-Patcher"},
}
NMT_METRICS = (("efficacy", "efficacy"), ("generalization", "generalisation"), ("specificity", "specificity"))


def plot_metrics(summaries: Sequence[dict[str, Any]], pdf: str | os.PathLike[str], png: str | os.PathLike[str]) -> None:
    """Rows = metric, columns = protocol (single / sequential edits); bars = tasks x methods."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from editlab.plots.style import FALLBACK_COLORS, paper_style, save_figure

    protocols = sorted({s["protocol"] for s in summaries}, key=lambda p: (p != "single", p))
    tasks = list(dict.fromkeys(s["task"] for s in summaries))
    methods = list(dict.fromkeys(s["method"] for s in summaries))
    styles = {m: NMT_METHOD_STYLE.get(m, {"color": FALLBACK_COLORS[i % len(FALLBACK_COLORS)], "hatch": "",
                                          "label": m}) for i, m in enumerate(methods)}
    value = {(s["protocol"], s["task"], s["method"], m): s.get(m) for s in summaries for m, _ in NMT_METRICS}
    width = 0.8 / max(1, len(methods))
    with paper_style():
        fig, axes = plt.subplots(len(NMT_METRICS), len(protocols), figsize=(7.0, 1.7 * len(NMT_METRICS) + 0.5),
                                 squeeze=False, sharex=True, sharey=True)
        for col, protocol in enumerate(protocols):
            for row, (metric, label) in enumerate(NMT_METRICS):
                ax = axes[row][col]
                for i, method in enumerate(methods):
                    ys = [value.get((protocol, t, method, metric)) for t in tasks]
                    xs = np.arange(len(tasks)) + (i - (len(methods) - 1) / 2) * width
                    ax.bar(xs, [np.nan if y is None else y for y in ys], width, color=styles[method]["color"],
                           hatch=styles[method]["hatch"], edgecolor="white", linewidth=0.3,
                           label=styles[method]["label"] if (row, col) == (0, 0) else None)
                ax.set_ylim(0, 1.05)
                ax.grid(axis="x", visible=False)
                if col == 0:
                    ax.set_ylabel(f"{label} (rate)")
                if row == 0:
                    ax.set_title(f"{protocol} edits")
                ax.set_xticks(np.arange(len(tasks)), tasks)
        fig.legend(loc="upper center", ncol=len(methods), frameon=False, bbox_to_anchor=(0.5, 1.02))
        fig.tight_layout(rect=(0, 0, 1, 0.96))
        save_figure(fig, pdf, png, dpi=200)
    plt.close(fig)


def aggregate(summary_paths: Sequence[str], csv: str, markdown: str, latex: str, profile: str) -> None:
    summaries = load_summaries(summary_paths)
    write_long_csv(csv, summaries)
    title = f"Rank-one editing of NMT models: behaviour deletion ({profile} profile)"
    write_markdown(markdown, summaries, title)
    write_latex(latex, summaries, title + ". Eff./Gen./Spec.: efficacy, generalisation, specificity.")
