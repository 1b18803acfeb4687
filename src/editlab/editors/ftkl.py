"""FT+KL baseline: FT plus KL(f0 ‖ f) on memory batches and on past edits (docs/design.md §6).

`kl_form: reference` (default) computes the KL term as the reference's `get_kl_diver_loss`
(Transformer-Patcher src/utils.py:202-228): memory batches of `kl_batch_size` drawn afresh every step
from the shuffled memory set, accumulated with the `/= loc_num` inside the loop (utils.py:217), which the
loop leaves before the last division, so the term is about `kl_batch_size` x the KL of the last batch;
the loop ends once `kl_memory_size - past edits` examples are reached (fewer batches as the edit history
grows); past edits: the KL summed over up to `kl_history` sampled ones, divided by the number of all.
`kl_form: mean` is editlab's earlier form: mean KL over the first `kl_memory_size` memory examples plus the
mean over sampled past edits of each edit's mean row KL.
With `tune: ffn` the KL terms are computed on the frozen FFN inputs of those examples (the head is
position-wise from there on), on both execution paths; with `tune: layer` (reference path only) from full
forward passes of the tuned model and of a frozen copy of the base model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.editors.base import EditOutcome, merged_section
from editlab.editors.ft import (
    LOSS_REDUCTION_HELP,
    MAX_STEPS_HELP,
    check_choices,
    check_tune_path,
    ffn_weights,
    fine_tune,
    load_ffn_weights,
)
from editlab.errors import ConfigError

KL_FORMS = ("reference", "mean")


@dataclass(frozen=True)
class FTKLParams:
    """config section sme.ftkl (keys fever/zsre override per task)."""

    copies: int = param(8, minimum=1)
    lr: float = param(1e-5, exclusiveMinimum=0)
    weight_decay: float = param(0.0, minimum=0)
    max_steps: int = param(2001, MAX_STEPS_HELP, minimum=1)
    kl_coef: float = param(1.0, "reference alpha", minimum=0)
    kl_memory_size: int = param(512, "reference loc_num (Transformer-Patcher src/utils.py:101): memory examples the KL "
                                "loop reaches", minimum=1)
    kl_history: int = param(100, "past edits sampled per step (src/utils.py:220)", minimum=0)
    kl_form: Literal["reference", "mean"] = param(
        "reference", "reference: the KL term of src/utils.py:202-228 (memory batches redrawn every step, /= loc_num "
        "inside the loop, history summed / all past edits); mean: editlab's earlier mean KL on a fixed memory batch")
    kl_batch_size: int = param(64, "memory batch size of the KL loop (reference batch_size, src/utils.py:24)",
                               minimum=1)
    tune: Literal["layer", "ffn"] = param("layer", "as sme.ft.tune: layer (reference, needs sme.path reference) | ffn")
    loss_reduction: Literal["sum", "mean"] = param("sum", LOSS_REDUCTION_HELP)
    base_cache_mb: float = param(
        512.0, "tune ffn: f0 logits of the memory examples the KL batches draw, kept once computed (MiB; the base "
        "never changes, so this only saves time: each example's f0 is computed alone, the same values whether "
        "kept or not); 0 keeps none", minimum=0)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], task: str) -> FTKLParams:
        params = check_choices(from_section(cls, merged_section(section, task), "sme.ftkl"), "sme.ftkl")
        if params.kl_form == "mean" and params.tune == "layer":
            raise ConfigError("config key 'sme.ftkl.kl_form': 'mean' works on cached FFN inputs and needs "
                              "sme.ftkl.tune: ffn")
        if params.kl_form not in KL_FORMS:
            raise ConfigError(f"config key 'sme.ftkl.kl_form': {params.kl_form!r} is not one of {', '.join(KL_FORMS)}")
        return params


def reference_memory_kl(batches: Iterable[tuple[torch.Tensor, int]], total: int, n_past_edits: int) -> torch.Tensor:
    """The reference's memory-KL accumulation (utils.py:205-217) over (batch mean KL, batch size) in loader
    order, consumed lazily: `kl += KL_b * B; n += B; break if n + B >= total - n_past_edits; kl /= n`."""
    kl: torch.Tensor | float = 0.0
    seen = 0
    for value, size in batches:
        kl = kl + value * size
        seen += size
        if seen + size >= total - n_past_edits:
            break
        kl = kl / seen
    return torch.as_tensor(kl) if not isinstance(kl, torch.Tensor) else kl


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
        self.base_ffn: tuple[torch.nn.Module, ...] = ()
        self.memory_examples: list[Example] = []
        self.base_model: torch.nn.Module | None = None
        self.history_examples: list[Example] = []
        self._rows_cache: dict[int, torch.Tensor] = {}
        self._base_cache: dict[int, torch.Tensor] = {}
        self._base_bytes = 0

    @torch.no_grad()
    def _base_logits(self, rows: torch.Tensor) -> torch.Tensor:
        """f0 on these FFN inputs: the head with copies of the FFN as it was before the stream, swapped in as
        modules (not copied into the live weights, which the current step's graph may still need)."""
        site = self.path.site
        live = site.fc_in, site.fc_out
        site.fc_in, site.fc_out = self.base_ffn
        try:
            return site.head(rows, False)
        finally:
            site.fc_in, site.fc_out = live

    def prepare(self, path: Any, memory: Sequence[Example], val: Sequence[Example]) -> None:
        check_tune_path(self.params.tune, path, self.method)
        self.path = path
        # tune: layer changes the layer's attention, so f0 and f are full forward passes (f0 = a frozen copy
        # of the base model, as the reference's original_model)
        self.base_model = (copy.deepcopy(path.model).requires_grad_(False).eval()
                           if self.params.tune == "layer" else None)
        self.base_ffn = tuple(copy.deepcopy(m).requires_grad_(False) for m in (path.site.fc_in, path.site.fc_out))
        self.memory_examples = list(memory)
        self._rows_cache, self._base_cache, self._base_bytes = {}, {}, 0
        if self.params.kl_form == "mean":
            self.memory_rows = path.memory_rows(self.memory_examples[:self.params.kl_memory_size])
            self.memory_base = self._base_logits(self.memory_rows)

    def _example_rows(self, indices: Sequence[int]) -> torch.Tensor:
        """The KL rows of these memory examples: FEVER the [CLS] query; zsRE the decoder positions that predict
        a target token of the first answer (the reference's mask `trg_attention_mask[:, :-1]`, utils.py:212,
        also counts the position reading `</s>` of every target shorter than its batch's longest; ours does not
        depend on how examples are batched). Cached per example: the queries below the FFN never change."""
        missing = [i for i in indices if i not in self._rows_cache]
        for start in range(0, len(missing), self.path.batch_size):
            chunk = missing[start:start + self.path.batch_size]
            q, enc = self.path.queries([self.memory_examples[i] for i in chunk])
            for j, i in enumerate(chunk):
                row = int(torch.nonzero(enc.owner == j)[0])   # first answer of example j, as the reference memory
                self._rows_cache[i] = (q[row] if q.dim() == 2 else
                                       q[row][enc.labels[row] != -100]).reshape(-1, q.shape[-1])
        return torch.cat([self._rows_cache[i] for i in indices])

    def _example_base(self, indices: Sequence[int]) -> torch.Tensor:
        """f0 logits of these memory examples' KL rows (`_example_rows(indices)` must have run), computed one
        example at a time, so that a value never depends on which examples share its batch (a resumed stream
        gets the same bits), and kept up to `base_cache_mb`: the base never changes, so every step after the
        first draw of an example reads it instead of running the head a second time."""
        budget = self.params.base_cache_mb * 2 ** 20
        parts = []
        for i in indices:
            base = self._base_cache.get(i)
            if base is None:
                base = self._base_logits(self._rows_cache[i])
                size = base.numel() * base.element_size()
                if self._base_bytes + size <= budget:
                    self._base_cache[i] = base
                    self._base_bytes += size
            parts.append(base)
        return torch.cat(parts)

    def _memory_batches(self) -> list[tuple[torch.Tensor, int]]:
        """Mean KL of each memory batch the reference loop reaches, in a fresh shuffled order (the reference
        loader has shuffle=True). How many it reaches depends on the sizes only, so every f0 pass (which swaps
        the FFN weights in place) runs before the autograd graph of the current weights is built."""
        order = torch.randperm(len(self.memory_examples), generator=self.generator).tolist()
        size = self.params.kl_batch_size
        chunks = [order[s:s + size] for s in range(0, len(order), size)]
        seen, used = 0, 0
        for chunk in chunks:
            used += 1
            seen += len(chunk)
            if seen + len(chunk) >= self.params.kl_memory_size - len(self.history):
                break
        if self.base_model is not None:
            return [(self._full_kl([self.memory_examples[i] for i in c]), len(c)) for c in chunks[:used]]
        rows = [self._example_rows(chunk) for chunk in chunks[:used]]
        bases = [self._example_base(chunk) for chunk in chunks[:used]]
        return [(kl_to_base(b, self.path.site.head(r, False)), len(c)) for r, b, c in zip(rows, bases, chunks)]

    def _full_kl(self, examples: Sequence[Example]) -> torch.Tensor:
        """Mean KL(f0 ‖ f) of full eval-mode forward passes (tune: layer) over the examples' rows (zsRE: the
        target positions of each first answer)."""
        ops = self.path.ops
        enc = self.path.encode([Example(e.id, e.input, e.answers[:1]) for e in examples])
        with torch.no_grad():
            base = ops.model_logits(self.base_model, enc)
        logits = ops.model_logits(self.path.model, enc)
        if logits.dim() == 3:
            mask = enc.labels != -100
            base, logits = base[mask], logits[mask]
        return kl_to_base(base, logits)

    def _full_history_per_edit(self) -> torch.Tensor | None:
        if not self.history:
            return None
        k = min(self.params.kl_history, len(self.history))
        picks = torch.randperm(len(self.history), generator=self.generator)[:k].tolist()
        return torch.stack([self._full_kl([self.history_examples[i]]) for i in picks])

    def _history_per_edit(self) -> torch.Tensor | None:
        """Each sampled past edit's mean row KL, [k] (None without history). One head call for all sampled
        edits (a loop of up to 100 small calls dominated the step)."""
        if not self.history:
            return None
        k = min(self.params.kl_history, len(self.history))
        picks = torch.randperm(len(self.history), generator=self.generator)[:k].tolist()
        rows = torch.cat([self.history[i][0] for i in picks])
        base = torch.cat([self.history[i][1] for i in picks])
        sizes = torch.tensor([self.history[i][0].shape[0] for i in picks], device=rows.device)
        owner = torch.repeat_interleave(torch.arange(k, device=rows.device), sizes)
        per_row = kl_rows(base, self.path.site.head(rows, False))
        per_edit = torch.zeros(k, dtype=per_row.dtype, device=rows.device).index_add_(0, owner, per_row)
        return per_edit / sizes

    def _kl(self) -> torch.Tensor:
        p = self.params
        if p.kl_form == "reference":
            loss = reference_memory_kl(self._memory_batches(), p.kl_memory_size, len(self.history))
            per_edit = self._history_per_edit() if self.base_model is None else self._full_history_per_edit()
            if per_edit is not None:
                loss = loss + per_edit.sum() / len(self.history)   # / all past edits (utils.py:226)
            return p.kl_coef * loss
        loss = kl_to_base(self.memory_base, self.path.site.head(self.memory_rows, False))
        per_edit = self._history_per_edit()
        if per_edit is not None:
            loss = loss + per_edit.mean()
        return p.kl_coef * loss

    def snapshot(self) -> dict[str, Any]:
        """Edited FFN weights, the history sampler and the past edits' FFN inputs (their f0 logits are
        recomputed on restore: same inputs, same base weights, and they can be large for zsRE)."""
        return {"ffn": ffn_weights(self.path, self.params.tune), "generator": self.generator.get_state(),
                "history_rows": [rows.clone() for rows, _ in self.history]}

    def restore(self, snap: dict[str, Any], edited: Sequence[Example]) -> None:
        load_ffn_weights(self.path, snap["ffn"], self.params.tune)
        self.generator.set_state(snap["generator"])
        device = self.path.device
        if self.base_model is not None:
            self.history_examples = list(edited)
            self.history = [(torch.zeros(0), torch.zeros(0)) for _ in edited]   # placeholders: full passes
            return
        self.history = [(rows.to(device), self._base_logits(rows.to(device))) for rows in snap["history_rows"]]

    def edit(self, example: Example, index: int) -> EditOutcome:
        p = self.params
        outcome = fine_tune(self.path, example, p.copies, p.lr, p.weight_decay, p.max_steps, extra_loss=self._kl,
                            tune=p.tune, loss_reduction=p.loss_reduction)
        if self.base_model is not None:
            self.history_examples.append(example)
            self.history.append((torch.zeros(0), torch.zeros(0)))   # the count; KL from full passes
            return outcome
        q, enc = self.path.queries([example])
        if q.dim() == 3:
            # reference form: the decoder positions of the target (mask, utils.py:224); mean: every row
            rows = q[enc.labels != -100] if self.params.kl_form == "reference" else q.reshape(-1, q.shape[-1])
        else:
            rows = q
        self.history.append((rows, self._base_logits(rows)))
        return outcome


def build(section: Mapping[str, Any], task: str, seed: int) -> FTKL:
    """Registry factory (editlab.editors.REGISTRY)."""
    return FTKL(FTKLParams.from_config(section, task), seed)
