"""Aggregate NMT summaries into a long table, a Markdown + LaTeX table, and a figure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from editlab.errors import DataFormatError
from editlab.io import atomic_path, read_json, write_text

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


def plot_metrics(summaries: Sequence[dict[str, Any]], pdf: str | os.PathLike[str], png: str | os.PathLike[str]) -> None:
    """Grouped bars: efficacy / generalisation / specificity per task and method, one panel per protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame([{"task": s["task"], "method": s["method"], "protocol": s["protocol"],
                           "metric": m, "value": s.get(m)}
                          for s in summaries for m in ("efficacy", "generalization", "specificity")])
    frame["method / metric"] = frame["method"] + " · " + frame["metric"]
    protocols = sorted(frame["protocol"].unique(), key=lambda p: (p != "single", p))
    fig, axes = plt.subplots(1, len(protocols), figsize=(6 * len(protocols), 4.4), squeeze=False, sharey=True)
    for ax, protocol in zip(axes[0], protocols):
        sns.barplot(data=frame[frame["protocol"] == protocol], x="task", y="value", hue="method / metric", ax=ax)
        ax.set_title(f"{protocol} edits")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("rate")
        ax.legend(fontsize=6, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    fig.tight_layout()
    for target in (pdf, png):
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=str(target).rsplit(".", 1)[-1], dpi=150)
    plt.close(fig)


def aggregate(summary_paths: Sequence[str], csv: str, markdown: str, latex: str, profile: str) -> None:
    summaries = load_summaries(summary_paths)
    write_long_csv(csv, summaries)
    title = f"Rank-one editing of NMT models: behaviour deletion ({profile} profile)"
    write_markdown(markdown, summaries, title)
    write_latex(latex, summaries, title + ". Eff./Gen./Spec.: efficacy, generalisation, specificity.")
