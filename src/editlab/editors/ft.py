"""FT baseline: fine-tune the patched layer's weights on the edit until it is right (docs/design.md §6).

`tune: layer` (default, the reference's scripts/ft.py:114-124): every weight of the patched layer except
biases and norms (BERT layer 11: Q, K, V, attention output, both FFN matrices); it changes the layer's
attention, so it needs the reference execution path. `tune: ffn`: the FFN fc1/fc2 weights and biases
(editlab's earlier choice; runs on the cached path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.editors.base import EditOutcome, merged_section
from editlab.errors import ConfigError

TUNE = ("layer", "ffn")
LOSS_REDUCTIONS = ("sum", "mean")
LOSS_REDUCTION_HELP = (
    "seq2seq (zsRE) edit loss: sum = the reference's label-smoothed NLL summed over every target token of the "
    "copies, never divided (scripts/ft.py:198-201 with src/utils.py:134-136 reduce=True; T-Patcher's own loss "
    "divides, src/models/seq2seq_modules.py:310-311), so FT+KL's KL term weighs ~copies x tokens less against it; "
    "mean = editlab's earlier mean over the target tokens. FEVER's loss is a mean either way")
MAX_STEPS_HELP = ("at most this many Adam steps per edit: the reference trains until edit_step > max_edit_step "
                  "(2000), i.e. up to 2001 steps (scripts/ft.py:180)")


@dataclass(frozen=True)
class FTParams:
    """config section sme.ft (keys fever/zsre override per task)."""

    copies: int = param(8, "same train-mode edit batch as T-Patcher", minimum=1)
    lr: float = param(1e-5, exclusiveMinimum=0)
    weight_decay: float = param(0.0, minimum=0)
    max_steps: int = param(2001, MAX_STEPS_HELP, minimum=1)
    tune: Literal["layer", "ffn"] = param(
        "layer", "weights FT tunes: layer = every weight of the last layer but biases and norms (reference "
        "scripts/ft.py:114-124; needs sme.path reference); ffn = fc1/fc2 with biases (runs on the cached path)")
    loss_reduction: Literal["sum", "mean"] = param("sum", LOSS_REDUCTION_HELP)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], task: str) -> FTParams:
        return check_choices(from_section(cls, merged_section(section, task), "sme.ft"), "sme.ft")


def check_choices(params: Any, where: str) -> Any:
    """The Literal fields of FTParams / FTKLParams built without the config schema (direct construction)."""
    if params.tune not in TUNE:
        raise ConfigError(f"config key '{where}.tune': {params.tune!r} is not one of {', '.join(TUNE)}")
    if params.loss_reduction not in LOSS_REDUCTIONS:
        raise ConfigError(f"config key '{where}.loss_reduction': {params.loss_reduction!r} is not one of "
                          f"{', '.join(LOSS_REDUCTIONS)}")
    return params


def check_tune_path(tune: str, path: Any, method: str) -> None:
    """`tune: layer` changes attention below the FFN, whose inputs the cached path computes once."""
    if tune == "layer" and getattr(path, "name", "") == "cached":
        raise ConfigError(f"config key 'sme.{method}.tune': 'layer' (the reference: every weight of the last "
                          "layer) needs sme.path: reference; the cached path freezes everything below the FFN "
                          f"(set sme.{method}.tune: ffn to run FT on it)")


def fine_tune(path: Any, example: Example, copies: int, lr: float, weight_decay: float, max_steps: int,
              extra_loss: Any = None, shortcut: bool = True, tune: str = "ffn", loss_reduction: str = "mean"
              ) -> EditOutcome:
    """Adam on the `tune` weights; check the edit (eval mode) before every step and stop once it is right.
    `loss_reduction` (seq2seq): "sum" multiplies the mean token loss by the target tokens of all `copies`.

    `shortcut` (exact, used only when the model has no active dropout): the copies are then identical and
    a train-mode forward equals the eval-mode check, so one copy and one forward per step give the same
    loss, gradient and stopping step as the reference's 8 copies plus a separate check.
    """
    params = path.site.tuned_parameters(tune)
    for prm in params:
        prm.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    exact = shortcut and path.site.train_mode_is_eval_mode
    inputs = path.edit_inputs(example, 1 if exact else copies)
    step = 0
    try:
        while step < max_steps:
            if not exact:
                with torch.no_grad():
                    logits, _, enc = path.forward(inputs, training=False)
                    if bool(path.ops.row_correct(logits, enc.labels).all()):
                        break
            logits, _, enc = path.forward(inputs, training=True)
            if exact and bool(path.ops.row_correct(logits.detach(), enc.labels).all()):
                break
            step += 1
            loss = edit_loss(path.ops, logits, enc.labels, loss_reduction, copies if exact else 1)
            if extra_loss is not None:
                loss = loss + extra_loss()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        for prm in params:
            prm.requires_grad_(False)
    return EditOutcome(0, step, {})


def edit_loss(ops: Any, logits: torch.Tensor, labels: torch.Tensor, reduction: str, repeats: int = 1) -> torch.Tensor:
    """The edit batch's task loss. "sum" (seq2seq labels [rows, T]): summed over every target token, each row
    standing for `repeats` identical copies (the one-copy shortcut); FEVER's loss is a mean either way."""
    loss = ops.loss(logits, labels)
    if reduction == "sum" and labels.dim() == 2:
        loss = loss * (labels != -100).sum() * repeats
    return loss


def ffn_weights(path: Any, tune: str = "ffn") -> list[torch.Tensor]:
    return [prm.detach().clone() for prm in path.site.tuned_parameters(tune)]


@torch.no_grad()
def load_ffn_weights(path: Any, weights: Sequence[torch.Tensor], tune: str = "ffn") -> None:
    for prm, saved in zip(path.site.tuned_parameters(tune), weights, strict=True):
        prm.copy_(saved)


class FT:
    method = "ft"

    def __init__(self, params: FTParams, seed: int) -> None:
        self.params = params
        self.path: Any = None

    def prepare(self, path: Any, memory: Sequence[Example], val: Sequence[Example]) -> None:
        check_tune_path(self.params.tune, path, self.method)
        self.path = path

    def snapshot(self) -> dict[str, Any]:
        """The edited weights (a fresh Adam per edit, so no optimiser state)."""
        return {"ffn": ffn_weights(self.path, self.params.tune)}

    def restore(self, snap: dict[str, Any], edited: Sequence[Example]) -> None:
        load_ffn_weights(self.path, snap["ffn"], self.params.tune)

    def edit(self, example: Example, index: int) -> EditOutcome:
        p = self.params
        return fine_tune(self.path, example, p.copies, p.lr, p.weight_decay, p.max_steps, tune=p.tune,
                         loss_reduction=p.loss_reduction)


def build(section: Mapping[str, Any], task: str, seed: int) -> FT:
    """Registry factory (editlab.editors.REGISTRY)."""
    return FT(FTParams.from_config(section, task), seed)
