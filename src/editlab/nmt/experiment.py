"""Run one editing method on one task: single edits (each reverted) and a sequential stream of all requests."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from editlab.nmt.metrics import behaviour_absent_rate, bleu, chrf, exact_rate
from editlab.nmt.model import translate
from editlab.nmt.tasks import EditRequest, Task
from editlab.rome.editor import EditResult, revert

log = logging.getLogger("editlab.nmt")

ApplyFn = Callable[[torch.nn.Module, EditRequest], EditResult]
RevertFn = Callable[[torch.nn.Module, EditResult], None]
StreamFn = Callable[[torch.nn.Module, list[EditResult], "Snapshot"], None]


@dataclass(frozen=True)
class Snapshot:
    """Outputs of the model on every evaluation set at one point of the protocol."""

    requests: list[str]
    generalization: list[str]
    specificity: list[str]
    test: list[str]


def snapshot(model: torch.nn.Module, tok: Any, task: Task, test_sources: Sequence[str], device: str = "cpu",
             max_new_tokens: int = 32) -> Snapshot:
    def run(sources: Sequence[str]) -> list[str]:
        return translate(model, tok, list(sources), max_new_tokens=max_new_tokens, device=device)

    return Snapshot(requests=run([r.source for r in task.requests]),
                    generalization=run([p.source for p in task.generalization]),
                    specificity=run([p.source for p in task.specificity]), test=run(test_sources))


def _scores(task: Task, snap: Snapshot, before: Snapshot, test_refs: Sequence[str],
            request_index: Sequence[int]) -> dict[str, float]:
    reqs = [task.requests[i] for i in request_index]
    outs = [snap.requests[i] for i in request_index]
    return {
        "efficacy": exact_rate(outs, [r.target for r in reqs]),
        "efficacy_behaviour_absent": sum(not r.behaviour.present(o) for r, o in zip(reqs, outs)) / len(reqs),
        "generalization": behaviour_absent_rate(snap.generalization, task.generalization),
        "generalization_exact": exact_rate(snap.generalization, [p.reference for p in task.generalization]),
        "specificity": exact_rate(snap.specificity, before.specificity),
        "specificity_reference": exact_rate(snap.specificity, [p.reference for p in task.specificity]),
        "bleu": bleu(snap.test, test_refs),
        "chrf": chrf(snap.test, test_refs),
        "test_unchanged": exact_rate(snap.test, before.test),
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def run_task(model: torch.nn.Module, tok: Any, task: Task, test: Sequence[tuple[str, str]], apply: ApplyFn,
             method: str, device: str = "cpu", max_new_tokens: int = 32, undo: RevertFn = revert,
             after_stream: StreamFn | None = None) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(single-edit summary, sequential summary, one row per edit) for one method on one task.

    `undo(model, result)` takes one edit back; edits are undone last-in first-out. `after_stream(model,
    results, final)` sees the model after the whole sequential stream, before it is undone, with that
    model's outputs `final` (patch export).
    """
    test_sources = [s for s, _ in test]
    test_refs = [t for _, t in test]
    before = snapshot(model, tok, task, test_sources, device, max_new_tokens)
    base = _scores(task, before, before, test_refs, range(len(task.requests)))
    rows: list[dict[str, Any]] = []
    for i, request in enumerate(task.requests):
        result = apply(model, request)
        after = snapshot(model, tok, task, test_sources, device, max_new_tokens)
        scores = _scores(task, after, before, test_refs, [i])
        rows.append({"protocol": "single", "index": i, "id": request.id, "applied": result.applied,
                     "seconds": result.seconds, "delta_norm": result.delta_norm, "output": after.requests[i],
                     **result.info, **scores})
        log.info("%s %s single: %s", method, request.id, {k: round(v, 3) for k, v in scores.items()})
        undo(model, result)
    single = _summary(rows, base, method, task, "single")
    seq_results = []
    for i, request in enumerate(task.requests):
        seq_results.append(apply(model, request))
        rows.append({"protocol": "sequential", "index": i, "id": request.id, "applied": seq_results[-1].applied,
                     "seconds": seq_results[-1].seconds, "delta_norm": seq_results[-1].delta_norm,
                     **seq_results[-1].info})
    final = snapshot(model, tok, task, test_sources, device, max_new_tokens)
    final_scores = _scores(task, final, before, test_refs, range(len(task.requests)))
    if after_stream is not None:
        after_stream(model, seq_results, final)
    for result in reversed(seq_results):
        undo(model, result)
    sequential = {
        **{k: v for k, v in final_scores.items() if k not in ("bleu", "chrf")},
        "protocol": "sequential", "evaluation_point": "final model after all requests of the task",
        "method": method, "task": task.name, "n_requests": len(task.requests),
        "n_applied": sum(r.applied for r in seq_results),
        "seconds_per_edit": _mean([r.seconds for r in seq_results]),
        "bleu_before": base["bleu"], "bleu_after": final_scores["bleu"],
        "chrf_before": base["chrf"], "chrf_after": final_scores["chrf"],
    }
    return single, sequential, rows


def _summary(rows: list[dict[str, Any]], base: dict[str, float], method: str, task: Task, protocol: str) -> dict[str, Any]:
    keys = ("efficacy", "efficacy_behaviour_absent", "generalization", "generalization_exact", "specificity",
            "specificity_reference", "test_unchanged")
    out: dict[str, Any] = {k: _mean([r[k] for r in rows]) for k in keys}
    out.update({
        "protocol": protocol,
        "evaluation_point": "immediately after each edit; the edit is reverted before the next",
        "method": method, "task": task.name, "n_requests": len(rows), "n_applied": sum(r["applied"] for r in rows),
        "seconds_per_edit": _mean([r["seconds"] for r in rows]),
        "bleu_before": base["bleu"], "bleu_after": _mean([r["bleu"] for r in rows]),
        "bleu_after_min": min(r["bleu"] for r in rows), "chrf_before": base["chrf"],
        "chrf_after": _mean([r["chrf"] for r in rows]),
        "generalization_before": base["generalization"], "efficacy_before": base["efficacy"],
    })
    out["bleu_drift_max"] = max(abs(r["bleu"] - base["bleu"]) for r in rows)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}
