"""FT+KL baseline: FT plus KL(f0 ‖ f) on a fixed memory batch and on past edits (docs/design.md §6).

The KL terms are computed on the frozen FFN inputs of those examples (the head is position-wise from
there on), on both execution paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.editors.base import EditOutcome, merged_section
from editlab.editors.ft import ffn_weights, fine_tune, load_ffn_weights


@dataclass(frozen=True)
class FTKLParams:
    """config section sme.ftkl (keys fever/zsre override per task)."""

    copies: int = param(8, minimum=1)
    lr: float = param(1e-5, exclusiveMinimum=0)
    weight_decay: float = param(0.0, minimum=0)
    max_steps: int = param(2000, minimum=1)
    kl_coef: float = param(1.0, "reference alpha", minimum=0)
    kl_memory_size: int = param(512, "reference loc_num: memory examples in the KL batch", minimum=1)
    kl_history: int = param(100, "past edits sampled per step", minimum=0)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], task: str) -> FTKLParams:
        return from_section(cls, merged_section(section, task), "sme.ftkl")


def kl_rows(base_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """KL(f0 ‖ f) per row: Bernoulli for one logit (FEVER), softmax over the vocabulary (zsRE)."""
    if logits.dim() == 1:
        p0 = torch.sigmoid(base_logits)
        return (p0 * (F.logsigmoid(base_logits) - F.logsigmoid(logits))
                + (1 - p0) * (F.logsigmoid(-base_logits) - F.logsigmoid(-logits)))
    log_p0 = base_logits.log_softmax(-1)
    return (log_p0.exp() * (log_p0 - logits.log_softmax(-1))).sum(-1)


def kl_to_base(base_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Mean KL(f0 ‖ f) over rows."""
    return kl_rows(base_logits, logits).mean()


class FTKL:
    method = "ftkl"

    def __init__(self, params: FTKLParams, seed: int) -> None:
        self.params = params
        self.generator = torch.Generator().manual_seed(seed)
        self.path: Any = None
        self.memory_rows: torch.Tensor | None = None
        self.memory_base: torch.Tensor | None = None
        self.history: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.base_weights: list[torch.Tensor] = []

    @torch.no_grad()
    def _base_logits(self, rows: torch.Tensor) -> torch.Tensor:
        """f0 on these FFN inputs: the head with the FFN weights as they were before the stream."""
        params = self.path.site.ffn_parameters()
        current = [prm.detach().clone() for prm in params]
        for prm, base in zip(params, self.base_weights, strict=True):
            prm.copy_(base)
        try:
            return self.path.site.head(rows, False)
        finally:
            for prm, cur in zip(params, current, strict=True):
                prm.copy_(cur)

    def prepare(self, path: Any, memory: Sequence[Example], val: Sequence[Example]) -> None:
        self.path = path
        self.base_weights = [prm.detach().clone() for prm in path.site.ffn_parameters()]
        self.memory_rows = path.memory_rows(list(memory)[:self.params.kl_memory_size])
        self.memory_base = self._base_logits(self.memory_rows)

    def _kl(self) -> torch.Tensor:
        site = self.path.site
        loss = kl_to_base(self.memory_base, site.head(self.memory_rows, False))
        if self.history:
            k = min(self.params.kl_history, len(self.history))
            picks = torch.randperm(len(self.history), generator=self.generator)[:k].tolist()
            # One head call for all sampled edits (a loop of up to 100 small calls dominated the step);
            # the mean over edits of each edit's mean row KL, as before.
            rows = torch.cat([self.history[i][0] for i in picks])
            base = torch.cat([self.history[i][1] for i in picks])
            sizes = torch.tensor([self.history[i][0].shape[0] for i in picks], device=rows.device)
            owner = torch.repeat_interleave(torch.arange(k, device=rows.device), sizes)
            per_row = kl_rows(base, site.head(rows, False))
            per_edit = torch.zeros(k, dtype=per_row.dtype, device=rows.device).index_add_(0, owner, per_row)
            loss = loss + (per_edit / sizes).mean()
        return self.params.kl_coef * loss

    def snapshot(self) -> dict[str, Any]:
        """Edited FFN weights, the history sampler and the past edits' FFN inputs (their f0 logits are
        recomputed on restore: same inputs, same base weights, and they can be large for zsRE)."""
        return {"ffn": ffn_weights(self.path), "generator": self.generator.get_state(),
                "history_rows": [rows.clone() for rows, _ in self.history]}

    def restore(self, snap: dict[str, Any], edited: Sequence[Example]) -> None:
        load_ffn_weights(self.path, snap["ffn"])
        self.generator.set_state(snap["generator"])
        device = self.memory_rows.device
        self.history = [(rows.to(device), self._base_logits(rows.to(device))) for rows in snap["history_rows"]]

    def edit(self, example: Example, index: int) -> EditOutcome:
        p = self.params
        outcome = fine_tune(self.path, example, p.copies, p.lr, p.weight_decay, p.max_steps, extra_loss=self._kl)
        q, _ = self.path.queries([example])
        rows = q.reshape(-1, q.shape[-1]) if q.dim() == 3 else q
        self.history.append((rows, self._base_logits(rows)))
        return outcome


def build(section: Mapping[str, Any], task: str, seed: int) -> FTKL:
    """Registry factory (editlab.editors.REGISTRY)."""
    return FTKL(FTKLParams.from_config(section, task), seed)
