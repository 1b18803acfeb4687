"""Comparing the result files of two runs of the workflow (the SLURM and determinism tests).

Wall-clock timings (keys, columns or rows naming seconds, time or hours) and memory readings (rss: the
per-edit peak resident memory) are not results and are left out; everything else is compared either
exactly (`digits=None`) or with floats rounded to `digits` significant digits and tensors to a relative
tolerance (runs that may sum in a different thread order).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

TIMING_WORDS = ("seconds", "time", "hours", "rss")
RESULT_SUFFIXES = {".json", ".jsonl", ".txt", ".csv", ".md", ".safetensors"}


def is_timing(text: str) -> bool:
    return any(word in text for word in TIMING_WORDS)


def strip_timings(obj, digits: int | None = 10):
    """`obj` without its timing keys; floats rounded to `digits` significant digits (None: kept exact)."""
    if isinstance(obj, dict):
        return {k: strip_timings(v, digits) for k, v in obj.items() if not is_timing(k)}
    if isinstance(obj, list):
        return [strip_timings(v, digits) for v in obj]
    if isinstance(obj, float):
        if math.isnan(obj):
            return "nan"   # so that NaN == NaN
        return obj if digits is None else float(f"{obj:.{digits}g}")
    return obj


def read_jsonl(path: Path, digits: int | None = 10) -> list:
    return [strip_timings(json.loads(line), digits) for line in path.read_text().splitlines() if line.strip()]


def comparable(path: Path, digits: int | None = 10):
    """File content for an equality check, timings left out (see the module docstring)."""
    if path.suffix == ".json":
        return strip_timings(json.loads(path.read_text()), digits)
    if path.suffix == ".jsonl":
        return read_jsonl(path, digits)
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_text())))
        keep = [i for i, name in enumerate(rows[0] if rows else []) if not is_timing(name)]
        return [[_number(row[i], digits) for i in keep if i < len(row)] for row in rows
                if not any(is_timing(cell) for cell in row)]
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        return TensorsClose(tensors, 0.0 if digits is None else 10.0 ** -(digits - 1))
    return path.read_bytes()


class TensorsClose:
    """Tensors equal to `rtol` (and to `rtol` times their largest entry in absolute terms); 0: bit-equal."""

    def __init__(self, tensors, rtol: float = 1e-9):
        self.tensors = tensors
        self.rtol = rtol

    def __eq__(self, other):
        import numpy as np

        if self.tensors.keys() != other.tensors.keys():
            return False
        for key, mine in self.tensors.items():
            theirs = other.tensors[key]
            if mine.shape != theirs.shape:
                return False
            if self.rtol == 0.0:
                if mine.dtype != theirs.dtype or mine.tobytes() != theirs.tobytes():
                    return False
            elif not np.allclose(mine, theirs, rtol=self.rtol,
                                 atol=self.rtol * float(np.abs(mine).max(initial=0.0))):
                return False
        return True


def _number(cell: str, digits: int | None):
    try:
        value = float(cell)
    except ValueError:
        return cell
    return value if digits is None else float(f"{value:.{digits}g}")


def result_files(root: Path, name: str = "ci") -> dict[str, Path]:
    """The result files of a workflow directory, by path relative to results/<name>."""
    base = root / "results" / name
    return {str(p.relative_to(base)): p for p in sorted(base.rglob("*"))
            if p.is_file() and p.suffix in RESULT_SUFFIXES}
