"""Check that each planted behaviour is really present before editing; record the observed negatives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from editlab.errors import EditlabError
from editlab.nmt.model import translate
from editlab.nmt.tasks import Task


def probe_task(model: torch.nn.Module, tok: Any, task: Task, min_presence: float, device: str = "cpu",
               max_new_tokens: int = 32) -> tuple[Task, dict[str, Any]]:
    """(task with observed negatives, keeping only requests that show the behaviour; presence report).

    Raises EditlabError when the behaviour shows on fewer than `min_presence` of the task's inputs
    (requests and generalisation set together): editing an absent behaviour would measure nothing.
    """
    req_out = translate(model, tok, [r.source for r in task.requests], max_new_tokens=max_new_tokens, device=device)
    gen_out = translate(model, tok, [p.source for p in task.generalization], max_new_tokens=max_new_tokens,
                        device=device)
    spec_out = translate(model, tok, [p.source for p in task.specificity], max_new_tokens=max_new_tokens,
                         device=device)
    req_present = [r.behaviour.present(o) for r, o in zip(task.requests, req_out)]
    gen_present = [bool(p.behaviour and p.behaviour.present(o)) for p, o in zip(task.generalization, gen_out)]
    overall = (sum(req_present) + sum(gen_present)) / (len(req_present) + len(gen_present))
    report = {
        "task": task.name,
        "requests_presence": sum(req_present) / len(req_present),
        "generalization_presence": sum(gen_present) / len(gen_present),
        "presence": overall,
        "min_presence": min_presence,
        "n_requests_candidates": len(task.requests),
        "n_requests_kept": sum(req_present),
        "specificity_correct": sum(o.split() == p.reference.split() for p, o in zip(task.specificity, spec_out))
        / len(spec_out),
    }
    if overall < min_presence or not any(req_present):
        raise EditlabError(f"task {task.name}: the planted behaviour shows on only {overall:.0%} of its inputs "
                           f"(requests {report['requests_presence']:.0%}, generalisation "
                           f"{report['generalization_presence']:.0%}); nmt.min_presence is {min_presence:.0%}. "
                           "Train the NMT model longer (nmt.model.train.epochs) or lower nmt.min_presence.")
    kept = [replace(r, negative=o) for r, o, present in zip(task.requests, req_out, req_present) if present]
    return replace(task, requests=kept), report
