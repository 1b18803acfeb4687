"""Mean and Student-t confidence interval of a per-fold statistic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """mean ± t_{(1+level)/2, n-1} · s / √n over folds (s = sample std, ddof 1).

    Folds are independent editing streams from the same base model, so the fold means are i.i.d.
    draws of the fold-level statistic; with 4 (mini) to 20 (paper) folds the t quantile, not the
    normal one, gives the right width. With one fold there is no spread: the bounds are NaN.
    """
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stats.t.ppf((1 + level) / 2, df=n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)
