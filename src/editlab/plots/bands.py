"""Mean curve and interval band across folds whose checkpoints do not line up."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from editlab.results.intervals import t_interval


def mean_band(curves: Sequence[tuple[np.ndarray, np.ndarray]], level: float,
              min_fold_fraction: float) -> pd.DataFrame:
    """Mean and t-interval across folds at every x any fold has.

    Each fold's curve is linearly interpolated inside its own x range (never extrapolated, since a
    fold with fewer mistakes simply stops earlier); a point is kept only where at least
    `min_fold_fraction` of the folds reach it. Columns: x, mean, low, high, n.
    """
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves]
    curves = [(x[~np.isnan(y)], y[~np.isnan(y)]) for x, y in curves]
    curves = [(x, y) for x, y in curves if len(x)]
    if not curves:
        return pd.DataFrame(columns=["x", "mean", "low", "high", "n"])
    need = max(1, math.ceil(min_fold_fraction * len(curves) - 1e-9))
    grid = np.unique(np.concatenate([x for x, _ in curves]))
    rows = []
    for point in grid:
        values = [float(np.interp(point, x, y)) for x, y in curves if x[0] <= point <= x[-1]]
        if len(values) < need:
            continue
        ci = t_interval(values, level)
        rows.append({"x": float(point), "mean": ci.mean, "low": ci.low, "high": ci.high, "n": ci.n})
    return pd.DataFrame(rows, columns=["x", "mean", "low", "high", "n"])


def running_rates(edits: pd.DataFrame) -> pd.DataFrame:
    """SR and GR as running means after each edit (edited examples only), x = number of edits so far."""
    edited = edits[edits["was_error"].astype(bool)] if len(edits) else edits
    n = np.arange(1, len(edited) + 1, dtype=float)
    success = edited["success"].astype(float).to_numpy() if len(edited) else np.array([])
    gr = pd.to_numeric(edited["gr"], errors="coerce").to_numpy(dtype=float) if len(edited) else np.array([])
    # GR may be null for an edit whose equivalence set is empty: average over the defined ones.
    gr_defined = ~np.isnan(gr)
    gr_sum = np.cumsum(np.where(gr_defined, gr, 0.0))
    gr_count = np.cumsum(gr_defined)
    with np.errstate(invalid="ignore", divide="ignore"):
        gr_running = np.where(gr_count > 0, gr_sum / np.maximum(gr_count, 1), np.nan)
    return pd.DataFrame({"n_edits": n, "SR": np.cumsum(success) / n if len(n) else n, "GR": gr_running})
