"""Across-fold aggregation of SME summaries into the long table results/{name}/tables/sme.csv.

One (task, method) pair is aggregated at a time; the pairs are then concatenated. Summaries whose
`protocol` (the evaluation points of each metric) differ are refused, never averaged together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from editlab.errors import DataFormatError
from editlab.io import atomic_path
from editlab.results.fold_outputs import SUMMARY_METRICS, read_benchmark_seconds, read_edits, read_summary
from editlab.results.intervals import t_interval

TABLE_COLUMNS = ("task", "method", "metric", "mean", "ci_low", "ci_high", "n_folds", "protocol", "interval")
AGGREGATED_METRICS = SUMMARY_METRICS + ("patches_per_edit", "seconds_per_edit", "n_edits")
# The reference's aggregation (get_res, Transformer-Patcher src/dataset/sme_dataset.py:227-241): SR over all
# edits of all folds, GR over all their rephrases (sum acc x n / sum n). No interval (one pooled number).
POOLED_METRICS = {"SR_pooled": ("successes", "edits"), "GR_pooled": ("gr_correct", "gr_rephrases")}
AGGREGATIONS = ("fold_mean", "pooled")
COST_METRICS = ("seconds_per_edit", "patches_per_edit", "steps_per_edit", "n_edits", "device_hours_per_fold")


def interval_name(level: float) -> str:
    return f"Student-t {round(level * 100, 2):g}%"


def fold_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The per-fold values that get aggregated; None where undefined (e.g. a fold with no edit)."""
    n_edits = summary["n_edits"]
    values: dict[str, float | None] = {m: summary[m] for m in SUMMARY_METRICS}
    values["patches_per_edit"] = summary["n_patches"] / n_edits if n_edits else None
    values["seconds_per_edit"] = summary["seconds_per_edit"]
    values["n_edits"] = float(n_edits)
    return values


def check_one_protocol(protocols: dict[str, str], what: str) -> str:
    """The common protocol of `protocols` (source -> protocol), or DataFormatError naming two that differ."""
    distinct = sorted(set(protocols.values()))
    if len(distinct) > 1:
        first = {p: src for src, p in protocols.items()}
        a, b = distinct[0], distinct[1]
        raise DataFormatError(
            first[b], f"protocol '{b}' differs from protocol '{a}' of {first[a]}; {what} with different "
                      "evaluation protocols must not be averaged (rerun them under one protocol)")
    if not distinct:
        raise DataFormatError(what, "nothing to aggregate")
    return distinct[0]


def load_summaries(paths: Sequence[str | Path], task: str, method: str) -> list[dict[str, Any]]:
    """Read the fold summaries of one (task, method), checking they belong to it and folds are unique."""
    summaries = []
    seen: dict[Any, Path] = {}
    for path in map(Path, paths):
        summary = read_summary(path)
        if summary["task"] != task or summary["method"] != method:
            raise DataFormatError(path, f"holds task '{summary['task']}', method '{summary['method']}' "
                                        f"but is listed for task '{task}', method '{method}'")
        if summary["fold"] in seen:
            raise DataFormatError(path, f"fold {summary['fold']!r} already read from {seen[summary['fold']]}")
        seen[summary["fold"]] = path
        summaries.append(summary | {"_path": str(path)})
    return summaries


def aggregate_method(summary_paths: Sequence[str | Path], task: str, method: str, level: float) -> pd.DataFrame:
    """Long-format rows (one per metric) for one task and method: mean and t interval across folds."""
    summaries = load_summaries(summary_paths, task, method)
    protocol = check_one_protocol({s["_path"]: s["protocol"] for s in summaries},
                                  f"summaries of {task}/{method}")
    per_fold = [fold_metrics(s) for s in summaries]
    rows = []
    for metric in AGGREGATED_METRICS:
        # A fold where the metric is undefined (no edit made) is left out of that metric; n_folds says so.
        values = [f[metric] for f in per_fold if f[metric] is not None]
        ci = t_interval(values, level)
        rows.append({"task": task, "method": method, "metric": metric, "mean": ci.mean, "ci_low": ci.low,
                     "ci_high": ci.high, "n_folds": ci.n, "protocol": protocol, "interval": interval_name(level)})
    for metric, (num, den) in POOLED_METRICS.items():
        value, n = pooled(summaries, num, den)
        rows.append({"task": task, "method": method, "metric": metric, "mean": value, "ci_low": math.nan,
                     "ci_high": math.nan, "n_folds": n, "protocol": protocol, "interval": "pooled (none)"})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def pooled(summaries: Sequence[dict[str, Any]], num: str, den: str) -> tuple[float, int]:
    """sum(num) / sum(den) over the folds whose summary has `counts` (older summaries have none), and how
    many folds that is; NaN when the denominator is 0."""
    with_counts = [s["counts"] for s in summaries if isinstance(s.get("counts"), dict)]
    total = sum(float(c[den]) for c in with_counts)
    return (sum(float(c[num]) for c in with_counts) / total if total else math.nan), len(with_counts)


def cost_method(summary_paths: Sequence[str | Path], edits_paths: Sequence[str | Path],
                benchmark_paths: Sequence[str | Path], task: str, method: str, level: float) -> pd.DataFrame:
    """Cost rows for one task and method: seconds, patches and optimiser steps per edit, device-hours per fold.

    Steps per edit come from the edit logs (edited examples only); device-hours from the Snakemake
    benchmark of each fold job (wall clock of a job that holds one device).
    """
    summaries = load_summaries(summary_paths, task, method)
    protocol = check_one_protocol({s["_path"]: s["protocol"] for s in summaries}, f"summaries of {task}/{method}")
    per_metric: dict[str, list[float]] = {m: [] for m in COST_METRICS}
    for summary in summaries:
        values = fold_metrics(summary)
        for metric in ("seconds_per_edit", "patches_per_edit", "n_edits"):
            if values[metric] is not None:
                per_metric[metric].append(values[metric])
    for path in edits_paths:
        edits = read_edits(path)
        edited = edits[edits["was_error"].astype(bool)] if len(edits) else edits
        if len(edited):
            per_metric["steps_per_edit"].append(float(pd.to_numeric(edited["steps"]).mean()))
    for path in benchmark_paths:
        per_metric["device_hours_per_fold"].append(read_benchmark_seconds(path) / 3600.0)
    rows = []
    for metric in COST_METRICS:
        ci = t_interval(per_metric[metric], level)
        rows.append({"task": task, "method": method, "metric": metric, "mean": ci.mean, "ci_low": ci.low,
                     "ci_high": ci.high, "n_folds": ci.n, "protocol": protocol, "interval": interval_name(level)})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def combine(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate per-(task, method) tables; every row must share one protocol."""
    frames = []
    protocols = {}
    for path in map(Path, paths):
        frame = read_table(path)
        for protocol in frame["protocol"].unique():
            protocols[f"{path} (protocol '{protocol}')"] = protocol
        frames.append(frame)
    check_one_protocol(protocols, "tables")
    return pd.concat(frames, ignore_index=True)


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DataFormatError(path, "table not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(path, f"not a CSV table ({exc})") from None
    missing = [c for c in TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(path, f"missing column(s) {', '.join(missing)}")
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
