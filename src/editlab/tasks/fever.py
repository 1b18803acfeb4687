"""FEVER fact checking: one logit from the [CLS] pooler, SUPPORTS iff logit > 0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from editlab.tasks import batched

if TYPE_CHECKING:   # type hints only: importing transformers' model code costs ~2.4 s (workflow start-up)
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def encode(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int = 32) -> dict[str, torch.Tensor]:
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def logits(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.squeeze(-1)


def loss(logit: torch.Tensor, labels: torch.Tensor, entropy_coef: float = 0.1) -> torch.Tensor:
    """BCE minus `entropy_coef` times the mean Bernoulli entropy (the reference's confidence penalty)."""
    bce = F.binary_cross_entropy_with_logits(logit, labels.float())
    if entropy_coef == 0:
        return bce
    p = torch.sigmoid(logit)
    entropy = -(p * F.logsigmoid(logit) + (1 - p) * F.logsigmoid(-logit)).mean()
    return bce - entropy_coef * entropy


@torch.no_grad()
def predict(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], *,
            max_length: int = 32, batch_size: int = 256) -> list[int]:
    """1 (SUPPORTS) iff logit > 0, in eval mode."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[int] = []
    for chunk in batched(texts, batch_size):
        batch = {k: v.to(device) for k, v in encode(tokenizer, chunk, max_length).items()}
        out += (logits(model, batch) > 0).long().tolist()
    model.train(was_training)
    return out


def accuracy(predictions: Sequence[int], labels: Sequence[int]) -> float:
    return sum(int(p == y) for p, y in zip(predictions, labels, strict=True)) / max(1, len(labels))
