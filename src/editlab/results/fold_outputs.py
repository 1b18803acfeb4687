"""Read and check the per-fold files of the SME output contract (DESIGN §11).

Every reader raises DataFormatError naming the file (and line/key) so that a malformed fold output
from the editing stage stops aggregation with one clear message instead of a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from editlab.errors import DataFormatError
from editlab.io import read_json, read_jsonl

SUMMARY_METRICS = ("SR", "GR", "ER", "TrainR", "TestR")
SUMMARY_KEYS = SUMMARY_METRICS + ("n_edits", "n_patches", "seconds_per_edit", "protocol", "task", "method", "fold")
EDIT_KEYS = ("index", "id", "was_error", "success", "gr", "n_neurons", "steps", "seconds")
CURVE_KEYS = ("n_edits", "SR", "GR", "ER", "TrainR", "TestR")
RATE_METRICS = ("SR", "GR", "ER")  # accuracies in [0, 1]; TrainR/TestR are ratios and may exceed 1


def _number_or_none(path: Path, key: str, value: Any, line: int | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise DataFormatError(path, f"key '{key}' must be a number or null, got {value!r}", line=line)
    return float(value)


def read_summary(path: str | Path) -> dict[str, Any]:
    """One fold's summary.json, checked for the contract keys and value ranges."""
    path = Path(path)
    summary = read_json(path)
    if not isinstance(summary, Mapping):
        raise DataFormatError(path, "expected a JSON object")
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise DataFormatError(path, f"missing key(s) {', '.join(missing)}")
    out = dict(summary)
    for key in SUMMARY_METRICS + ("seconds_per_edit",):
        out[key] = _number_or_none(path, key, summary[key])
    for key in RATE_METRICS:
        if out[key] is not None and not 0.0 <= out[key] <= 1.0:
            raise DataFormatError(path, f"key '{key}' = {out[key]} lies outside [0, 1]")
    for key in ("n_edits", "n_patches"):
        value = summary[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DataFormatError(path, f"key '{key}' must be a non-negative integer, got {value!r}")
    if not isinstance(summary["protocol"], str) or not summary["protocol"]:
        raise DataFormatError(path, f"key 'protocol' must be a non-empty string, got {summary['protocol']!r}")
    return out


def read_edits(path: str | Path) -> pd.DataFrame:
    """One fold's edits.jsonl as a frame in visiting order (one row per visited example)."""
    path = Path(path)
    rows = []
    for lineno, row in read_jsonl(path):
        missing = [k for k in EDIT_KEYS if k not in row]
        if missing:
            raise DataFormatError(path, f"missing key(s) {', '.join(missing)}", line=lineno)
        if row["index"] != len(rows):
            raise DataFormatError(path, f"key 'index' = {row['index']!r}, expected {len(rows)} (visiting order)",
                                  line=lineno)
        if row["was_error"] and row["success"] is None:
            raise DataFormatError(path, "an edited example (was_error true) needs a boolean 'success'", line=lineno)
        gr = _number_or_none(path, "gr", row["gr"], lineno)
        if gr is not None and not 0.0 <= gr <= 1.0:
            raise DataFormatError(path, f"key 'gr' = {gr} lies outside [0, 1]", line=lineno)
        rows.append({k: row[k] for k in EDIT_KEYS})
    if not rows:
        return pd.DataFrame(columns=list(EDIT_KEYS))
    return pd.DataFrame(rows)


def read_curve(path: str | Path) -> pd.DataFrame:
    """One fold's curve.jsonl (metrics at the checkpoints), sorted by number of edits."""
    path = Path(path)
    rows = []
    for lineno, row in read_jsonl(path):
        missing = [k for k in CURVE_KEYS if k not in row]
        if missing:
            raise DataFormatError(path, f"missing key(s) {', '.join(missing)}", line=lineno)
        rows.append({k: (row[k] if k == "n_edits" else _number_or_none(path, k, row[k], lineno)) for k in CURVE_KEYS})
    if not rows:
        raise DataFormatError(path, "no checkpoint rows")
    frame = pd.DataFrame(rows).astype({k: float for k in CURVE_KEYS if k != "n_edits"})
    if frame["n_edits"].duplicated().any():
        raise DataFormatError(path, "duplicate 'n_edits' checkpoints")
    return frame.sort_values("n_edits", ignore_index=True)


@dataclass(frozen=True)
class PatchActivations:
    edit_acts: np.ndarray  # [n_patches, n_edits] pre-activation of each patch on each edit query
    test_acts: np.ndarray  # [n_patches, n_test_shown]
    patch_edit: np.ndarray  # [n_patches] edit that added each patch


def read_activations(path: str | Path) -> PatchActivations:
    path = Path(path)
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise DataFormatError(path, "file not found") from None
    except (ValueError, OSError) as exc:
        raise DataFormatError(path, f"not a readable .npz archive ({exc})") from None
    missing = [k for k in ("edit_acts", "test_acts", "patch_edit") if k not in arrays]
    if missing:
        raise DataFormatError(path, f"missing array(s) {', '.join(missing)}")
    edit_acts, test_acts, patch_edit = arrays["edit_acts"], arrays["test_acts"], arrays["patch_edit"]
    if edit_acts.ndim != 2 or test_acts.ndim != 2 or patch_edit.ndim != 1:
        raise DataFormatError(path, "edit_acts and test_acts must be 2-D, patch_edit 1-D")
    n_patches = patch_edit.shape[0]
    if edit_acts.shape[0] != n_patches or test_acts.shape[0] != n_patches:
        raise DataFormatError(path, f"row counts differ: edit_acts {edit_acts.shape}, test_acts {test_acts.shape}, "
                                    f"patch_edit {patch_edit.shape}")
    if n_patches and (patch_edit.min() < 0 or patch_edit.max() >= edit_acts.shape[1]):
        raise DataFormatError(path, f"patch_edit values must index the {edit_acts.shape[1]} edits")
    return PatchActivations(edit_acts.astype(np.float32), test_acts.astype(np.float32), patch_edit.astype(np.int64))


def read_benchmark_seconds(path: str | Path) -> float:
    """Wall-clock seconds of a job from a Snakemake benchmark TSV (mean over repeats)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t")
    except FileNotFoundError:
        raise DataFormatError(path, "benchmark file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(path, f"not a Snakemake benchmark TSV ({exc})") from None
    if "s" not in frame.columns or frame.empty:
        raise DataFormatError(path, "expected a Snakemake benchmark TSV with an 's' column and one row per run")
    seconds = pd.to_numeric(frame["s"], errors="coerce")
    if seconds.isna().any():
        raise DataFormatError(path, "column 's' holds a non-numeric value")
    return float(seconds.mean())


EDIT_SPEED_CASES = ("fever", "zsre", "fever_base", "zsre_base")
EDIT_SPEED_KEYS = ("reference_s_per_edit", "cached_s_per_edit", "ratio")


def read_edit_speed(path: str | Path) -> dict[str, dict[str, float]]:
    """The JSON of `benchmarks/edit_speed.py` (reference vs cached seconds per edit per case)."""
    path = Path(path)
    speed = read_json(path)
    if not isinstance(speed, Mapping):
        raise DataFormatError(path, "expected a JSON object")
    out = {}
    for case in EDIT_SPEED_CASES:
        entry = speed.get(case)
        if not isinstance(entry, Mapping):
            raise DataFormatError(path, f"missing object '{case}'")
        values = {}
        for key in EDIT_SPEED_KEYS:
            value = _number_or_none(path, f"{case}.{key}", entry.get(key))
            if value is None or value <= 0:
                raise DataFormatError(path, f"key '{case}.{key}' must be a positive number, got {entry.get(key)!r}")
            values[key] = value
        out[case] = values
    return out
