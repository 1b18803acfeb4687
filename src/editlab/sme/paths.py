"""The two execution paths of an editing run: one result, different cost (docs/design.md §9).

`reference`: as the original code, every step runs the full network (train mode, dropout) on the
edit copies with the patches hooked in, and accuracy is measured with full forward passes / greedy
generation. `cached`: everything below the patched FFN is frozen, so its inputs are computed once (the
dropout-perturbed copies of the edit example once per edit, eval-mode inputs for every evaluated set)
and each step only runs the FFN and what follows it (`FFNSite.head`), on one copy when the model has no
dropout (the copies are then identical). zsRE accuracy on this path is
teacher-forced: an answer counts iff every target token is the argmax, which is what greedy decoding
returns (documented in docs/methods/transformer_patcher.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from editlab.data.records import Example
from editlab.editors.site import FFNSite
from editlab.editors.task_ops import Encoded, TaskOps, rows_to_examples
from editlab.tasks import batched

PATHS = ("cached", "reference")
# Dropout draws of the edit copies per edit on the cached path (config `sme.cached_dropout_draws`).
# Measured on the mini models with dropout 0.1 (config/mini_dropout.yaml), first mistakes of fold 0 fixed:
# FEVER 1 draw 0/30, 4 draws 14/30, 16 draws 22/30, the reference path (a new draw every step) 21/30; zsRE
# 1 draw 6/20, 4 draws 15/20, 16 draws and reference 20/20 (docs/methods/transformer_patcher.md).
DROPOUT_DRAWS = 16


@dataclass
class EditInputs:
    """One edit example, prepared once: eval encoding and queries, and the training copies."""

    example: Example
    single: Encoded
    copies: Encoded
    eval_queries: torch.Tensor            # FEVER [1, d]; zsRE [1, T, d]
    # Cached path only: the copies' train-mode queries, one tensor per dropout draw, cycled by the training
    # forwards; without dropout a single view of the eval queries over the copies (`identical_copies`).
    draws: list[torch.Tensor] = field(default_factory=list)
    identical_copies: bool = False
    n_train_forwards: int = 0
    fixed: dict[int, torch.Tensor] = field(default_factory=dict)   # FFN output w/o new neurons, per draw (-1: eval)


class ExecutionPath:
    name = "base"

    def __init__(self, site: FFNSite, ops: TaskOps, device: str | torch.device, batch_size: int = 256) -> None:
        self.site, self.ops, self.device, self.batch_size = site, ops, device, batch_size
        self.model = site.model
        self._sets: dict[str, tuple[list[Example], list[tuple[torch.Tensor, Encoded]]]] = {}

    # -- shared: frozen FFN inputs -----------------------------------------------------------------
    def encode(self, examples: Sequence[Example]) -> Encoded:
        return self.ops.encode(examples).to(self.device)

    def queries(self, examples: Sequence[Example]) -> tuple[torch.Tensor, Encoded]:
        """Eval-mode queries of the patched layer (independent of patches and of the path)."""
        enc = self.encode(examples)
        return self.ops.queries(self.site.capture(enc.batch, training=False), enc), enc

    def chunked_queries(self, examples: Sequence[Example]) -> list[tuple[torch.Tensor, Encoded]]:
        return [self.queries(chunk) for chunk in batched(list(examples), self.batch_size)]

    def memory_rows(self, examples: Sequence[Example]) -> torch.Tensor:
        rows = [self.ops.memory_rows(q, enc) for q, enc in self.chunked_queries(examples)]
        return torch.cat(rows) if rows else torch.zeros(0, self.site.fc_in.in_features, device=self.device)

    def edit_inputs(self, example: Example, copies: int) -> EditInputs:
        q, single = self.queries([example])
        return EditInputs(example, single, single.repeat(copies), q)

    # -- path-specific ---------------------------------------------------------------------------
    def forward(self, inputs: EditInputs, training: bool, static_ffn: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, Encoded]:
        """(logits, queries, encoding) of the copies (training) or the single example (eval).

        `static_ffn`: the caller trains only new patch neurons (FFN weights and committed patches fixed
        during this edit), so a path may reuse the rest of the FFN output.
        """
        raise NotImplementedError

    def correct(self, examples: Sequence[Example]) -> list[bool]:
        raise NotImplementedError

    def correct_growing(self, examples: Sequence[Example], cache: list[tuple[torch.Tensor, Encoded]]) -> list[bool]:
        """`correct(examples)` for a list that only grows between calls (a stream's edits so far); `cache` is
        the caller's, one per such list. Here no reuse; the cached path keeps the queries of its full chunks."""
        return self.correct(examples)

    def register_set(self, name: str, examples: Sequence[Example]) -> None:
        self._sets[name] = (list(examples), [])

    def set_correct(self, name: str) -> list[bool]:
        return self.correct(self._sets[name][0])

    def set_queries(self, name: str) -> list[tuple[torch.Tensor, Encoded]]:
        examples, cached = self._sets[name]
        if not cached:
            cached.extend(self.chunked_queries(examples))
        return cached


class CachedPath(ExecutionPath):
    name = "cached"

    def __init__(self, site: FFNSite, ops: TaskOps, device: str | torch.device, batch_size: int = 256,
                 single_copy: bool = True, dropout_draws: int = DROPOUT_DRAWS,
                 draws_per_forward: int | None = None) -> None:
        super().__init__(site, ops, device, batch_size)
        self.single_copy = single_copy
        self.dropout_draws = dropout_draws
        # None: as many draws per train-mode forward as `batch_size` rows allow (one forward on a GPU);
        # 1: one forward per draw (benchmarks/edit_speed.py times both).
        self.draws_per_forward = draws_per_forward
        self._last_single: tuple[Example, tuple[torch.Tensor, Encoded]] | None = None

    def queries(self, examples: Sequence[Example]) -> tuple[torch.Tensor, Encoded]:
        """As the base class, but the last single example's queries are kept: a stream checks a mistake
        alone, then edits it, checks it again and (FT+KL) stores it, each time the same batch of one, and
        the frozen layers below the FFN give the same bits every time (callers only read them)."""
        if len(examples) != 1:
            return super().queries(examples)
        if self._last_single is None or self._last_single[0] != examples[0]:
            self._last_single = (examples[0], super().queries(examples))
        return self._last_single[1]

    def dropout_draw_queries(self, copies: Encoded) -> list[torch.Tensor]:
        """`dropout_draws` train-mode queries of the copies, several draws stacked in one forward: dropout
        masks are drawn per element, so a stacked batch gives independent draws as separate passes do."""
        rows = int(copies.labels.shape[0])
        per = self.draws_per_forward or max(1, self.batch_size // max(1, rows))
        draws: list[torch.Tensor] = []
        while len(draws) < self.dropout_draws:
            k = min(per, self.dropout_draws - len(draws))
            stacked = copies.repeat(k)
            queries = self.ops.queries(self.site.capture(stacked.batch, training=True), stacked)
            draws += list(queries.chunk(k))
        return draws

    def edit_inputs(self, example: Example, copies: int) -> EditInputs:
        inputs = super().edit_inputs(example, copies)
        if self.single_copy and self.site.train_mode_is_eval_mode:
            inputs.identical_copies = True
            inputs.draws = [inputs.eval_queries.expand(copies, *inputs.eval_queries.shape[1:])]
        else:
            # Train-mode passes of the repeated batch: each copy gets its own dropout below the layer, and
            # the training steps cycle through `dropout_draws` such draws (the reference: a new one per step).
            inputs.draws = self.dropout_draw_queries(inputs.copies)
        return inputs

    def forward(self, inputs: EditInputs, training: bool, static_ffn: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, Encoded]:
        """Training with `identical_copies` (exact): the head runs on the single example, whose loss is the
        mean over the identical copies; the queries come back as a view over the copies, so the
        activation loss sees the copies' (tied) top-k entries as on the full batch (the memory loss
        takes one copy standing for all, `TPatcher._losses`)."""
        one = not training or inputs.identical_copies
        draw, h = -1, inputs.eval_queries
        if training:
            draw = inputs.n_train_forwards % len(inputs.draws)
            inputs.n_train_forwards += 1
            h = inputs.draws[draw]
        head_h, key = (inputs.eval_queries, -1) if one else (h, draw)
        fixed = None
        if static_ffn and not (training and self.site.activation_dropout > 0):
            if key not in inputs.fixed:
                inputs.fixed[key] = self.site.fixed_ffn_output(head_h)
            fixed = inputs.fixed[key]
        return self.site.head(head_h, training, fixed), h, inputs.single if one else inputs.copies

    @torch.no_grad()
    def _correct_from(self, parts: list[tuple[torch.Tensor, Encoded]], n_examples: int) -> list[bool]:
        out: list[bool] = []
        for q, enc in parts:
            ok = self.ops.row_correct(self.site.head(q, False), enc.labels)
            out += rows_to_examples(ok, enc.owner, enc.n_examples)
        assert len(out) == n_examples
        return out

    def correct(self, examples: Sequence[Example]) -> list[bool]:
        return self._correct_from(self.chunked_queries(examples), len(examples)) if examples else []

    def set_correct(self, name: str) -> list[bool]:
        return self._correct_from(self.set_queries(name), len(self._sets[name][0]))

    def correct_growing(self, examples: Sequence[Example], cache: list[tuple[torch.Tensor, Encoded]]) -> list[bool]:
        """The same chunks of `batch_size` as `correct`, hence the same result bit for bit, but the queries of
        every full chunk (patch-independent, and unchanged while the list only grows) are computed once and
        kept in `cache`: a checkpoint then encodes at most one chunk instead of every edit so far."""
        if not examples:
            return []
        examples = list(examples)
        n_full = len(examples) // self.batch_size
        while len(cache) < n_full:
            start = len(cache) * self.batch_size
            cache.append(self.queries(examples[start:start + self.batch_size]))
        rest = examples[n_full * self.batch_size:]
        return self._correct_from(cache[:n_full] + ([self.queries(rest)] if rest else []), len(examples))


class ReferencePath(ExecutionPath):
    name = "reference"

    def forward(self, inputs: EditInputs, training: bool, static_ffn: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, Encoded]:
        enc = inputs.copies if training else inputs.single
        self.model.train(training)
        try:
            with self.site.patched():
                logits = self.ops.model_logits(self.model, enc)
                h = self.ops.queries(self.site.last_input, enc)
        finally:
            self.model.eval()
        return logits, h, enc

    def correct(self, examples: Sequence[Example]) -> list[bool]:
        if not examples:
            return []
        with self.site.patched():
            return self.ops.predict_correct(self.model, list(examples), self.batch_size)


def execution_path(name: str, site: FFNSite, ops: TaskOps, device: str | torch.device,
                   batch_size: int = 256, dropout_draws: int = DROPOUT_DRAWS,
                   draws_per_forward: int | None = None) -> ExecutionPath:
    if name == "cached":
        return CachedPath(site, ops, device, batch_size, dropout_draws=dropout_draws,
                          draws_per_forward=draws_per_forward)
    if name == "reference":
        return ReferencePath(site, ops, device, batch_size)
    raise ValueError(f"unknown execution path {name!r} (expected one of {', '.join(PATHS)})")
