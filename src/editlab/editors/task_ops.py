"""Per-task tensors around the patched layer: encoding, which FFN inputs are queries, loss, correctness.

FEVER: one query per claim (the [CLS] FFN input). zsRE: one query per decoder position under teacher
forcing on a gold answer; an example with several answers becomes one row per answer (`owner`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from editlab.data.records import Example
from editlab.tasks import fever, zsre

if TYPE_CHECKING:   # type hints only: importing transformers' model code costs ~2.4 s (workflow start-up)
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass
class Encoded:
    batch: dict[str, torch.Tensor]   # what the full model takes
    labels: torch.Tensor             # FEVER [B] float; zsRE [B, T] long, -100 = ignored
    owner: torch.Tensor              # example index of each row
    n_examples: int

    def to(self, device: str | torch.device) -> Encoded:
        return Encoded({k: v.to(device) for k, v in self.batch.items()}, self.labels.to(device),
                       self.owner.to(device), self.n_examples)

    def repeat(self, copies: int) -> Encoded:
        """The same (single-example) batch repeated `copies` times, as the reference's edit batch."""
        return Encoded({k: v.repeat(copies, *([1] * (v.dim() - 1))) for k, v in self.batch.items()},
                       self.labels.repeat(copies, *([1] * (self.labels.dim() - 1))),
                       self.owner.repeat(copies), self.n_examples)


def rows_to_examples(row_ok: torch.Tensor, owner: torch.Tensor, n_examples: int) -> list[bool]:
    """An example is right if any of its rows (answers) is right."""
    out = torch.zeros(n_examples, dtype=torch.bool, device=row_ok.device)
    out.index_put_((owner,), row_ok, accumulate=True)
    return out.tolist()


class FeverOps:
    task = "fever"

    def __init__(self, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel, max_length: int,
                 entropy_coef: float) -> None:
        self.tokenizer, self.max_length, self.entropy_coef = tokenizer, max_length, entropy_coef

    def encode(self, examples: Sequence[Example]) -> Encoded:
        batch = fever.encode(self.tokenizer, [e.input for e in examples], self.max_length)
        labels = torch.tensor([float(e.label) for e in examples])
        return Encoded(batch, labels, torch.arange(len(examples)), len(examples))

    def queries(self, ffn_inputs: torch.Tensor, enc: Encoded) -> torch.Tensor:
        """[B, L, d] -> the [CLS] queries [B, d]."""
        return ffn_inputs[:, 0]

    def memory_rows(self, queries: torch.Tensor, enc: Encoded) -> torch.Tensor:
        return queries

    def model_logits(self, model: PreTrainedModel, enc: Encoded) -> torch.Tensor:
        return fever.logits(model, enc.batch)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return fever.loss(logits, labels, self.entropy_coef)

    def row_correct(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (logits > 0).float() == labels

    def wrong_positions(self, logits: torch.Tensor, labels: torch.Tensor) -> list[int]:
        return [0]

    def predict_correct(self, model: PreTrainedModel, examples: Sequence[Example], batch_size: int) -> list[bool]:
        preds = fever.predict(model, self.tokenizer, [e.input for e in examples], max_length=self.max_length,
                              batch_size=batch_size)
        return [p == e.label for p, e in zip(preds, examples, strict=True)]


class TeacherForcedOps:
    """Correctness of a seq2seq target under teacher forcing (zsRE, NMT): greedy decoding returns the target
    iff every teacher-forced argmax is the target token. `forced_bos`: a first token generation forces."""

    forced_bos: int | None = None

    def _position_ok(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        ok = (logits.argmax(-1) == labels) | (labels == -100)
        if self.forced_bos is not None:
            ok[..., 0] = True
        return ok

    def row_correct(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Greedy decoding reproduces the answer iff every teacher-forced argmax is the gold token."""
        return self._position_ok(logits, labels).all(-1)

    def wrong_positions(self, logits: torch.Tensor, labels: torch.Tensor) -> list[int]:
        """Target positions whose teacher-forced argmax is wrong (one example: logits [T, V])."""
        return torch.nonzero(~self._position_ok(logits, labels)).flatten().tolist()


class ZsreOps(TeacherForcedOps):
    task = "zsre"

    def __init__(self, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel, max_length: int,
                 label_smoothing: float) -> None:
        self.tokenizer, self.max_length, self.label_smoothing = tokenizer, max_length, label_smoothing
        self.decoder_start = model.config.decoder_start_token_id
        # generate() forces this first token, so the model's own choice there never matters.
        self.forced_bos = getattr(model.generation_config, "forced_bos_token_id", None)

    def encode(self, examples: Sequence[Example]) -> Encoded:
        questions, answers, owner = [], [], []
        for i, ex in enumerate(examples):
            for answer in dict.fromkeys(ex.answers):
                questions.append(ex.input)
                answers.append(answer)
                owner.append(i)
        enc = zsre.encode(self.tokenizer, questions, answers, self.max_length, self.decoder_start)
        labels = enc.pop("labels")
        return Encoded(enc, labels, torch.tensor(owner), len(examples))

    def queries(self, ffn_inputs: torch.Tensor, enc: Encoded) -> torch.Tensor:
        return ffn_inputs

    def memory_rows(self, queries: torch.Tensor, enc: Encoded) -> torch.Tensor:
        """Every non-pad decoder position but the first (the reference's memory for seq2seq)."""
        mask = enc.batch["decoder_attention_mask"][:, 1:].bool()
        return queries[:, 1:][mask]

    def model_logits(self, model: PreTrainedModel, enc: Encoded) -> torch.Tensor:
        return zsre.logits(model, enc.batch)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return zsre.loss(logits, labels, self.label_smoothing)

    def predict_correct(self, model: PreTrainedModel, examples: Sequence[Example], batch_size: int) -> list[bool]:
        preds = zsre.generate(model, self.tokenizer, [e.input for e in examples], max_length=self.max_length,
                              batch_size=batch_size)
        return [zsre.exact_match(p, e.answers) for p, e in zip(preds, examples, strict=True)]


TaskOps = FeverOps | ZsreOps


def task_ops(task: str, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel, base_train: dict) -> TaskOps:
    max_length = int(base_train.get("max_length", 32))
    if task == "fever":
        return FeverOps(tokenizer, model, max_length, float(base_train.get("entropy_coef", 0.1)))
    return ZsreOps(tokenizer, model, max_length, float(base_train.get("label_smoothing", 0.1)))
