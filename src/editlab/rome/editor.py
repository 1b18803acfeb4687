"""The rank-one update W' = W + (v* − W k)(C⁻¹k*)ᵀ / ((C⁻¹k*)ᵀ k), its application and exact revert."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from editlab.errors import EditlabError
from editlab.rome.batches import TokenSpecials, predicts_target
from editlab.rome.compute import EditIds, average_key, compute_value, keys_at
from editlab.rome.hparams import RomeHyperParams
from editlab.rome.locate import locate_ffn_output
from editlab.rome.stats import SecondMoment


def rank_one_factors(weight: torch.Tensor, bias: torch.Tensor | None, mom2: torch.Tensor, k_star: torch.Tensor,
                     k_cur: torch.Tensor, v_star: torch.Tensor, ridge: float = 0.0
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(right, u) in float64 with ΔW = right ⊗ u: u = C⁻¹k*, right = (v* − W k_cur − b) / (uᵀ k_cur)."""
    c = mom2.to(torch.float64)
    if ridge > 0:
        c = c + ridge * c.diagonal().mean() * torch.eye(c.shape[0], dtype=c.dtype, device=c.device)
    u = torch.linalg.solve(c, k_star.to(torch.float64).to(c.device))
    denom = torch.dot(u, k_cur.to(torch.float64).to(c.device))
    if not torch.isfinite(denom) or abs(float(denom)) < 1e-12:
        raise EditlabError("rank-one update undefined: (C⁻¹k*)ᵀk is zero or not finite "
                           "(is the second-moment matrix singular? set nmt.rome.mom2_ridge > 0)")
    w = weight.detach().to(torch.float64).to(c.device)
    cur = w @ k_cur.to(torch.float64).to(c.device)
    if bias is not None:
        cur = cur + bias.detach().to(torch.float64).to(c.device)
    right = (v_star.to(torch.float64).to(c.device) - cur) / denom
    return right, u


def delta_from_factors(right: torch.Tensor, u: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """ΔW in the weight's dtype and device (the one place the float64 factors are rounded)."""
    return torch.outer(right.to(torch.float64), u.to(torch.float64)).to(weight.dtype).to(weight.device)


def rank_one_delta(weight: torch.Tensor, bias: torch.Tensor | None, mom2: torch.Tensor, k_star: torch.Tensor,
                   k_cur: torch.Tensor, v_star: torch.Tensor, ridge: float = 0.0) -> torch.Tensor:
    """ΔW (out × in) such that (W + ΔW) k_cur + b = v*, along the direction C⁻¹k* (float64 algebra).

    `weight` is a Linear weight (out_features × in_features); the result has its dtype.
    """
    right, u = rank_one_factors(weight, bias, mom2, k_star, k_cur, v_star, ridge)
    return delta_from_factors(right, u, weight)


@dataclass
class EditResult:
    """What one edit did; `weight_before` is what revert() writes back (None: nothing was changed)."""

    module_name: str
    applied: bool
    seconds: float
    weight_before: torch.Tensor | None = None
    delta_norm: float = 0.0
    v_losses: list[float] = field(default_factory=list)
    k_cur: torch.Tensor | None = None  # the key ΔW maps to v* (diagnostics and tests)
    v_star: torch.Tensor | None = None
    factors: tuple[torch.Tensor, torch.Tensor] | None = None  # (right, u), float64: ΔW = right ⊗ u
    info: dict[str, Any] = field(default_factory=dict)  # method-specific numbers for edits.jsonl (JSON values)


def apply_rome(model: torch.nn.Module, edit: EditIds, hp: RomeHyperParams, stats: SecondMoment,
               specials: TokenSpecials, device: str = "cpu") -> EditResult:
    """Edit `model` in place so that it produces `edit.pair.target`; no-op if it already does."""
    start = time.perf_counter()
    locus = locate_ffn_output(model, hp.side, hp.layer)
    if stats.side != locus.side or stats.layer != locus.layer:
        raise EditlabError(f"second-moment statistics are for {stats.side} layer {stats.layer}, "
                           f"the edit targets {locus.side} layer {locus.layer}")
    if predicts_target(model, edit.pair, specials, device):
        return EditResult(locus.name, applied=False, seconds=time.perf_counter() - start)
    k_star = average_key(model, locus, edit, specials, device)
    if hp.key_mode == "rome":
        k_cur = keys_at(model, locus, [(edit.pair, edit.position)], specials, device)[0]
    else:
        k_cur = k_star  # r-ROME: the averaged key in both places
    search = compute_value(model, locus, edit, hp, specials, device)
    factors = rank_one_factors(locus.module.weight, locus.module.bias, stats.matrix, k_star, k_cur, search.v_star,
                               hp.mom2_ridge)
    delta = delta_from_factors(*factors, locus.module.weight)
    before = locus.module.weight.detach().clone()
    with torch.no_grad():
        locus.module.weight.add_(delta)
    return EditResult(locus.name, applied=True, seconds=time.perf_counter() - start, weight_before=before,
                      delta_norm=float(delta.norm()), v_losses=search.losses, k_cur=k_cur, v_star=search.v_star,
                      factors=(factors[0].cpu(), factors[1].cpu()))


def revert(model: torch.nn.Module, result: EditResult) -> None:
    """Restore the weights `result`'s edit changed, bit for bit."""
    if result.weight_before is None:
        return
    module = model.get_submodule(result.module_name)
    with torch.no_grad():
        module.weight.copy_(result.weight_before)
