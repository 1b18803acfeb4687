"""Fine-tuning baseline: Adam on the same output projection the rank-one editor changes, one example."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from editlab.config import from_section, param
from editlab.rome.batches import Seq2SeqIds, TokenSpecials, forward_logits, make_batch, predicts_target, target_nll
from editlab.rome.editor import EditResult
from editlab.rome.locate import locate_ffn_output


@dataclass(frozen=True)
class FineTuneHyperParams:
    """config section nmt.ft; side and layer come from nmt.locus."""

    side: str = "encoder"
    layer: int = 0
    lr: float = param(5e-4, "ROME's FT baseline", exclusiveMinimum=0)
    max_steps: int = param(50, minimum=1)
    weight_decay: float = param(0.0, minimum=0)
    # L∞ bound on the weight change (ROME's FT-L norm constraint); null = unconstrained.
    norm_constraint: float | None = param(None, "L-infinity bound on the weight change (ROME FT-L); null = none",
                                          exclusiveMinimum=0)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> FineTuneHyperParams:
        return from_section(cls, section, "nmt.ft")


def apply_finetune(model: torch.nn.Module, pair: Seq2SeqIds, hp: FineTuneHyperParams, specials: TokenSpecials,
                   device: str = "cpu") -> EditResult:
    """Train W of the located projection on NLL(pair) until greedy decoding yields the target."""
    start = time.perf_counter()
    locus = locate_ffn_output(model, hp.side, hp.layer)  # type: ignore[arg-type]
    if predicts_target(model, pair, specials, device):
        return EditResult(locus.name, applied=False, seconds=time.perf_counter() - start)
    weight = locus.module.weight
    before = weight.detach().clone()
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    weight.requires_grad_(True)
    optimizer = torch.optim.Adam([weight], lr=hp.lr, weight_decay=hp.weight_decay)
    batch = make_batch([pair], specials, device)
    losses: list[float] = []
    model.eval()  # no dropout: the edit is judged by deterministic greedy decoding
    try:
        for _ in range(hp.max_steps):
            optimizer.zero_grad()
            loss = target_nll(forward_logits(model, batch), batch["labels"]).mean()
            losses.append(float(loss.detach()))
            loss.backward()
            optimizer.step()
            if hp.norm_constraint is not None:
                with torch.no_grad():
                    weight.copy_(torch.clamp(weight, before - hp.norm_constraint, before + hp.norm_constraint))
            if predicts_target(model, pair, specials, device):
                break
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
    return EditResult(locus.name, applied=True, seconds=time.perf_counter() - start, weight_before=before,
                      delta_norm=float((weight.detach() - before).norm()), v_losses=losses)
