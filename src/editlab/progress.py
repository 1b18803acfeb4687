"""Progress of long stages: a bar on a terminal, a periodic line in a job log.

A bar redrawn every step is noise in a log file, so off a terminal the progress is a log line at most every
`every_s` seconds (and one at the end) with the count, rate, ETA and the stage's own numbers (loss, SR, ...).
Progress never changes what a stage computes.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
# Seconds between two log lines off a terminal; EDITLAB_PROGRESS_SECONDS overrides it (tests, long jobs).
DEFAULT_EVERY_S = 30.0


def _every_s(every_s: float | None) -> float:
    if every_s is not None:
        return every_s
    try:
        return float(os.environ.get("EDITLAB_PROGRESS_SECONDS", DEFAULT_EVERY_S))
    except ValueError:
        return DEFAULT_EVERY_S


def _format_postfix(postfix: Mapping[str, Any]) -> str:
    parts = []
    for key, value in postfix.items():
        parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """`update(n, **numbers)` after each unit of work; `close()` at the end (or use it as a context manager).

    `bar`: None decides by whether stderr is a terminal.
    """

    def __init__(self, total: int | None, desc: str, *, unit: str = "it", logger: logging.Logger | None = None,
                 every_s: float | None = None, bar: bool | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.log = logger or logging.getLogger("editlab.progress")
        self.every_s = _every_s(every_s)
        self.n = 0
        self.postfix: dict[str, Any] = {}
        self.start = self._last_line = time.perf_counter()
        self._bar: Any = None
        if bar if bar is not None else sys.stderr.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, leave=False)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self) -> str:
        """The log line of the current state, e.g. `train: 40/100 steps (40%), 0.51 s/step, ETA 0:31, loss 0.3`."""
        elapsed = time.perf_counter() - self.start
        rate = elapsed / self.n if self.n else 0.0
        count = f"{self.n}/{self.total} {self.unit}" if self.total else f"{self.n} {self.unit}"
        text = f"{self.desc}: {count}"
        if self.total:
            text += f" ({100 * self.n / self.total:.0f}%)"
        text += f", {rate:.3g} s/{self.unit.rstrip('s') or self.unit}, elapsed {_duration(elapsed)}"
        if self.total and self.n:
            text += f", ETA {_duration(rate * (self.total - self.n))}"
        if self.postfix:
            text += ", " + _format_postfix(self.postfix)
        return text

    def update(self, n: int = 1, **numbers: Any) -> None:
        self.n += n
        self.postfix.update(numbers)
        if self._bar is not None:
            self._bar.update(n)
            if numbers:
                self._bar.set_postfix_str(_format_postfix(self.postfix), refresh=False)
            return
        now = time.perf_counter()
        if now - self._last_line >= self.every_s:
            self._last_line = now
            self.log.info("%s", self.line())

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        if self.n and self._last_line != -1.0:
            self.log.info("%s (done)", self.line())
        self._last_line = -1.0


def track(items: Iterable[T], desc: str, total: int | None = None, **kwargs: Any) -> Iterator[T]:
    """Yield `items`, reporting progress (`total` defaults to len(items) where it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, desc, **kwargs) as progress:
        for item in items:
            yield item
            progress.update()
