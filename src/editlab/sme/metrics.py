"""SME metrics of one stream (docs/design.md §7) as pure functions of the per-edit log and accuracies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# SR and GR are taken right after each edit; ER, TrainR and TestR on the final model.
PROTOCOL = "SR,GR:immediate;ER,TrainR,TestR:final"


def mean_or_none(values: Sequence[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def accuracy(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def ratio(after: float, before: float) -> float | None:
    """Acc(f_T)/Acc(f_0); undefined (None) when the base model gets nothing right."""
    return after / before if before > 0 else None


def edited(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r["was_error"]]


def stream_metrics(records: Sequence[Mapping[str, Any]], edit_correct: Sequence[bool],
                   acc: Mapping[str, float]) -> dict[str, Any]:
    """SR, GR (running means over edits), ER (current model on all edits), TrainR/TestR ratios."""
    done = edited(records)
    return {
        "n_edits": len(done),
        "SR": mean_or_none([r["success"] for r in done]),
        "GR": mean_or_none([r["gr"] for r in done]),
        "ER": accuracy(edit_correct) if done else None,
        "TrainR": ratio(acc["train_after"], acc["train_before"]),
        "TestR": ratio(acc["test_after"], acc["test_before"]),
    }


def pooled_counts(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """What the reference's `get_res` (sme_dataset.py:227-241) pools over all edits of all folds: successes
    per edit (SR = sum / edits) and correct rephrases (GR = sum acc x n / sum n, each edit weighted by its
    number of rephrases `n_gr`)."""
    done = edited(records)
    with_gr = [r for r in done if r["gr"] is not None]
    return {"successes": sum(bool(r["success"]) for r in done), "edits": len(done),
            "gr_correct": sum(r["gr"] * r.get("n_gr", 1) for r in with_gr),
            "gr_rephrases": sum(r.get("n_gr", 1) for r in with_gr)}
