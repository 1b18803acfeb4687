"""Transformer-Patcher baseline for NMT: patch neurons on the decoder's last FFN (docs/design.md §6, §8).

The editor is `editlab.editors.tpatcher.TPatcher` unchanged, on the cached execution path: the patched
site is `BartLastFFN` (found by structure; Marian and BART share the post-LN decoder layout, which
`check_head` verifies on the memory batch), the queries are decoder positions under teacher forcing
on the positive target (one neuron per wrong target token, as for zsRE), and the memory is the
decoder queries of training pairs, teacher-forced on their training targets.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.editors.site import BartLastFFN
from editlab.editors.task_ops import Encoded, TeacherForcedOps
from editlab.editors.tpatcher import TPatcher, TPatcherParams
from editlab.errors import ConfigError
from editlab.nmt.tasks import Behaviour, EditRequest
from editlab.nmt.tokenizer import NMTTokenizer, pair_ids
from editlab.rome.batches import forward_logits, make_batch, predicts_target
from editlab.rome.editor import EditResult
from editlab.sme.paths import CachedPath


@dataclass(frozen=True)
class NmtTPatcherHyperParams:
    # Training pairs (from the start of the corpus, as for ROME's statistics) whose decoder queries form
    # the memory the new neurons must stay silent on, and the next `val_size` the early-stopping memory.
    memory_size: int = param(2000, "training pairs whose decoder queries form the memory", minimum=1)
    val_size: int = param(500, "the next training pairs: the early-stopping memory", minimum=1)
    # Leave out of both memories the pairs whose training target shows the behaviour being deleted:
    # the memory is what the patch must preserve, and the planted behaviour is not.
    exclude_behaviour: bool = param(True, "leave pairs whose training target shows the task's behaviour out of "
                                    "both memories")
    # The editor's (reference) values; their keys sit in nmt.tpatcher itself, next to the three above.
    patch: TPatcherParams = field(default_factory=TPatcherParams)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> NmtTPatcherHyperParams:
        hp = from_section(cls, section, "nmt.tpatcher")
        if hp.memory_size < 1 or hp.val_size < 1:
            raise ConfigError("config key 'nmt.tpatcher.memory_size' / 'val_size': must be at least 1")
        if hp.patch.memory_unique:   # the NMT undo truncates the memory rows, which the distinct-row index follows not
            raise ConfigError("config key 'nmt.tpatcher.memory_unique': not supported by the NMT T-Patcher "
                              "(its undo truncates the memory); set it to false")
        return hp


class NmtOps(TeacherForcedOps):
    """Task ops (as `editors.task_ops.ZsreOps`) for an NMT tokenizer: one row per (source, target) pair;
    Marian forces no first token."""

    task = "nmt"

    def __init__(self, tok: NMTTokenizer) -> None:
        self.tok = tok

    def encode(self, examples: Sequence[Example]) -> Encoded:
        batch = make_batch([pair_ids(self.tok, e.input, e.answers[0]) for e in examples], self.tok.specials)
        labels = batch.pop("labels")
        return Encoded(batch, labels, torch.arange(len(examples)), len(examples))

    def queries(self, ffn_inputs: torch.Tensor, enc: Encoded) -> torch.Tensor:
        return ffn_inputs

    def memory_rows(self, queries: torch.Tensor, enc: Encoded) -> torch.Tensor:
        """Every non-pad decoder position (Marian has no forced first token, unlike BART on zsRE)."""
        return queries[enc.batch["decoder_attention_mask"].bool()]

    def model_logits(self, model: torch.nn.Module, enc: Encoded) -> torch.Tensor:
        return forward_logits(model, enc.batch)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        # The toy model is trained without label smoothing (nmt.model.train.label_smoothing: 0).
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1), ignore_index=-100)

    def predict_correct(self, model: torch.nn.Module, examples: Sequence[Example], batch_size: int) -> list[bool]:
        return [predicts_target(model, pair_ids(self.tok, e.input, e.answers[0]), self.tok.specials)
                for e in examples]


def memory_pairs(corpus: Sequence[tuple[str, str]], hp: NmtTPatcherHyperParams,
                 behaviours: Sequence[Behaviour]) -> tuple[list[Example], list[Example]]:
    """(memory, validation memory) from the start of the training corpus."""
    kept = [(s, t) for s, t in corpus
            if not (hp.exclude_behaviour and any(b.present(t) for b in behaviours))]
    rows = [Example(f"train-{i}", s, (t,)) for i, (s, t) in enumerate(kept[: hp.memory_size + hp.val_size])]
    return rows[: hp.memory_size], rows[hp.memory_size :]


@dataclass
class _Undo:
    n_neurons: int       # committed neurons before the edit
    n_memory: int        # memory rows (train, val) before the edit
    n_val: int
    n_added: int


class NmtTPatcher:
    """`apply` / `undo` / `active` for `editlab.nmt.experiment.run_task` around one TPatcher."""

    def __init__(self, model: torch.nn.Module, tok: NMTTokenizer, hp: NmtTPatcherHyperParams,
                 corpus: Sequence[tuple[str, str]], behaviours: Sequence[Behaviour], seed: int,
                 device: str = "cpu") -> None:
        model.requires_grad_(False)  # only the patch neurons train
        self.model, self.tok, self.device = model, tok, device
        self.site = BartLastFFN(model)
        self.path = CachedPath(self.site, NmtOps(tok), device)
        memory, val = memory_pairs(corpus, hp, behaviours)
        if not memory or not val:
            raise ConfigError(f"config key 'nmt.tpatcher.memory_size': the corpus leaves {len(memory)} memory and "
                              f"{len(val)} validation pairs; both must be non-empty")
        self.site.check_head(self.path.encode(memory[:8]).batch)
        self.editor = TPatcher(hp.patch, seed)
        self.editor.prepare(self.path, memory, val)
        self.n_memory_pairs = len(memory)
        self.module_name = next(n for n, m in model.named_modules() if m is self.site.fc_out)
        self._undo: list[tuple[int, _Undo]] = []
        self._count = 0

    def active(self) -> Any:
        """Context manager: full forward passes (generation included) use the committed patches."""
        return self.site.patched()

    def apply(self, model: torch.nn.Module, request: EditRequest) -> EditResult:
        start = time.perf_counter()
        pair = pair_ids(self.tok, request.source, request.target)
        with self.site.patched():
            already = predicts_target(model, pair, self.tok.specials, self.device)
        if already:
            return EditResult(self.module_name, applied=False, seconds=time.perf_counter() - start)
        bank, memory = self.site.bank, self.editor.memory
        state = _Undo(bank.n_committed, int(memory.train.shape[0]), int(memory.val.shape[0]), memory.n_added)
        outcome = self.editor.edit(Example(request.id, request.source, (request.target,)), self._count)
        self._count += 1
        values = bank.values[state.n_neurons :]
        result = EditResult(self.module_name, applied=True, seconds=time.perf_counter() - start,
                            delta_norm=float(values.norm()),
                            info={"n_neurons": outcome.n_neurons, "steps": outcome.steps,
                                  "stopped_early": bool(outcome.info.get("stopped_early", False))})
        self._undo.append((id(result), state))
        return result

    def undo(self, model: torch.nn.Module, result: EditResult) -> None:
        """Drop the neurons and memory rows of `result`'s edit (it must be the latest edit not undone)."""
        if not result.applied:
            return
        key, state = self._undo.pop()
        if key != id(result):
            raise RuntimeError("T-Patcher edits are undone last-in first-out")
        bank, memory = self.site.bank, self.editor.memory
        for name in ("keys", "biases", "values", "owner"):
            setattr(bank, name, getattr(bank, name)[: state.n_neurons])
        memory.train, memory.val = memory.train[: state.n_memory], memory.val[: state.n_val]
        memory.n_added = state.n_added
