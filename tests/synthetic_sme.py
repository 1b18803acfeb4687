"""Realistic synthetic SME fold outputs in the contract format (test fixtures only, never used by the workflow).

They stand in for the editing stage while it is written: files, keys and shapes follow DESIGN §11 and
the SME output contract, and the numbers behave like the real thing (T-Patcher keeps retention, FT
forgets as edits accumulate, each patch fires on its own edit). Everything is seeded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PROTOCOL = "SR,GR:immediate;ER,TrainR,TestR:final"
# Per-method behaviour: success rate, mean GR, per-edit drift of retention, seconds per edit, steps per edit.
BEHAVIOUR = {
    "tpatcher": dict(success=0.99, gr=0.8, drift=0.0002, seconds=2.0, steps=180),
    "ft": dict(success=0.95, gr=0.7, drift=0.004, seconds=0.4, steps=12),
    "ftkl": dict(success=0.93, gr=0.68, drift=0.002, seconds=0.7, steps=15),
}
ERROR_RATE = {"fever": 0.3, "zsre": 0.7}
BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _stream(rng: np.random.Generator, task: str, method: str, fold: int, n_visited: int, checkpoint_every: int,
            n_test_shown: int, out: Path, protocol: str) -> float:
    """Write one stream's edits/summary/curve(/activations) under `out`; return its total seconds."""
    beh = BEHAVIOUR[method]
    out.mkdir(parents=True, exist_ok=True)
    edits, curve = [], []
    successes, grs, patch_edit = [], [], []
    n_edits = 0
    total_seconds = 0.0
    for index in range(n_visited):
        was_error = bool(rng.random() < ERROR_RATE[task])
        row = {"index": index, "id": f"{task}-{fold}-{index}", "was_error": was_error, "success": None,
               "gr": None, "n_neurons": 0, "steps": 0, "seconds": 0.0}
        if was_error:
            success = bool(rng.random() < beh["success"])
            gr = float(np.clip(rng.normal(beh["gr"], 0.2), 0, 1))
            if task == "zsre":
                gr = round(gr * 5) / 5  # up to 5 rephrases
            n_neurons = int(rng.integers(1, 4)) if (method == "tpatcher" and task == "zsre") else int(method == "tpatcher")
            seconds = float(rng.lognormal(np.log(beh["seconds"]), 0.3))
            row.update(success=success, gr=gr, n_neurons=n_neurons, steps=int(rng.poisson(beh["steps"])) + 1,
                       seconds=seconds)
            successes.append(success)
            grs.append(gr)
            patch_edit += [n_edits] * n_neurons
            n_edits += 1
            total_seconds += seconds
        edits.append(row)
        last = index == n_visited - 1
        if (was_error and n_edits % checkpoint_every == 0) or last:
            if curve and curve[-1]["n_edits"] == n_edits:
                continue
            keep = max(0.0, 1 - beh["drift"] * n_edits)
            curve.append({"n_edits": n_edits,
                          "SR": float(np.mean(successes)) if successes else None,
                          "GR": float(np.mean(grs)) if grs else None,
                          "ER": float(np.clip(rng.normal(0.97 * keep, 0.01), 0, 1)) if n_edits else None,
                          "TrainR": float(np.clip(rng.normal(keep, 0.005), 0, 1.2)),
                          "TestR": float(np.clip(rng.normal(keep, 0.008), 0, 1.2))})
    _write_jsonl(out / "edits.jsonl", edits)
    _write_jsonl(out / "curve.jsonl", curve)
    final = curve[-1]
    summary = {"SR": final["SR"], "GR": final["GR"], "ER": final["ER"], "TrainR": final["TrainR"],
               "TestR": final["TestR"], "n_edits": n_edits, "n_patches": len(patch_edit),
               "seconds_per_edit": total_seconds / n_edits if n_edits else None, "protocol": protocol,
               "task": task, "method": method, "fold": fold, "n_visited": n_visited,
               "train_acc_before": 0.9, "train_acc_after": 0.9 * final["TrainR"],
               "test_acc_before": 0.7, "test_acc_after": 0.7 * final["TestR"], "path": "cached"}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if method == "tpatcher":
        n_patches = len(patch_edit)
        edit_acts = rng.normal(-4.0, 1.5, size=(n_patches, n_edits))
        edit_acts[np.arange(n_patches), patch_edit] = rng.normal(2.0, 0.5, size=n_patches)
        leaks = rng.random(edit_acts.shape) < 0.01  # a few off-target firings, as real patches have
        edit_acts[leaks] = rng.normal(0.5, 0.3, size=int(leaks.sum()))
        test_acts = rng.normal(-4.0, 1.5, size=(n_patches, n_test_shown))
        np.savez(out / "activations.npz", edit_acts=edit_acts.astype(np.float32),
                 test_acts=test_acts.astype(np.float32), patch_edit=np.asarray(patch_edit, dtype=np.int64))
    return total_seconds


def write_synthetic_results(root: str | Path, name: str = "ci", tasks: Sequence[str] = ("fever", "zsre"),
                            methods: Sequence[str] = ("tpatcher", "ft", "ftkl"), n_folds: int = 2,
                            n_visited: int = 80, checkpoint_every: int = 10, n_test_shown: int = 20,
                            long_methods: Sequence[str] = (), seed: int = 0, edit_speed: bool = False,
                            protocols: dict[tuple[str, str, int], str] | None = None) -> None:
    """Fold outputs, benchmark TSVs and (optionally) long streams under `root` (a workflow directory)."""
    root = Path(root)
    protocols = protocols or {}
    if edit_speed:  # what benchmarks/edit_speed.py prints, as the workflow stores it
        cases = {"fever": (0.9, 0.12), "zsre": (2.4, 0.3), "fever_base": (7.5, 0.8), "zsre_base": (19.0, 2.1)}
        speed = {case: {"reference_s_per_edit": ref, "cached_s_per_edit": cached, "ratio": ref / cached}
                 for case, (ref, cached) in cases.items()}
        target = root / "results" / name / "benchmarks" / "edit_speed.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(speed, indent=2))
    for t_i, task in enumerate(tasks):
        for m_i, method in enumerate(methods):
            for fold in range(n_folds):
                rng = np.random.default_rng([seed, t_i, m_i, fold])
                out = root / "results" / name / "sme" / task / method / f"fold{fold}"
                seconds = _stream(rng, task, method, fold, n_visited, checkpoint_every, n_test_shown, out,
                                  protocols.get((task, method, fold), PROTOCOL))
                bench = root / "benchmarks" / "out" / name / "sme" / task / method / f"fold{fold}.tsv"
                bench.parent.mkdir(parents=True, exist_ok=True)
                wall = seconds + 5.0  # editing plus setup
                bench.write_text(BENCH_HEADER + f"{wall:.4f}\t0:00:{int(wall):02d}\t812.5\t2400.1\t790.0\t795.2"
                                                f"\t1.2\t0.4\t97.0\t{wall * 0.97:.2f}\n")
            if method in long_methods:
                rng = np.random.default_rng([seed, t_i, m_i, 99])
                _stream(rng, task, method, -1, n_visited * n_folds, checkpoint_every, n_test_shown,
                        root / "results" / name / "sme" / task / method / "long", PROTOCOL)
