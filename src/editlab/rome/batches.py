"""Token-id sequences of one edit, padded into model batches (tokenizer-agnostic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Seq2SeqIds:
    """Token ids of one source/target pair; ids end with the tokenizer's EOS."""

    source: list[int]
    target: list[int]


@dataclass(frozen=True)
class TokenSpecials:
    pad_id: int
    decoder_start_id: int


def pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def make_batch(pairs: Sequence[Seq2SeqIds], specials: TokenSpecials, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Teacher-forcing batch: input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, labels."""
    input_ids = pad([p.source for p in pairs], specials.pad_id)
    dec_in = pad([[specials.decoder_start_id] + p.target[:-1] for p in pairs], specials.pad_id)
    labels = pad([p.target for p in pairs], IGNORE_INDEX)
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": (pad([[1] * len(p.source) for p in pairs], 0)).to(device),
        "decoder_input_ids": dec_in.to(device),
        "decoder_attention_mask": (pad([[1] * len(p.target) for p in pairs], 0)).to(device),
        "labels": labels.to(device),
    }


def forward_logits(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        decoder_input_ids=batch["decoder_input_ids"],
        decoder_attention_mask=batch["decoder_attention_mask"],
    ).logits


def target_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean token NLL per row (padding ignored), shape (batch,)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    mask = labels != IGNORE_INDEX
    gathered = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(gathered * mask).sum(-1) / mask.sum(-1).clamp(min=1)


@torch.no_grad()
def predicts_target(model: torch.nn.Module, pair: Seq2SeqIds, specials: TokenSpecials, device: str = "cpu") -> bool:
    """True iff greedy decoding of `pair.source` yields exactly `pair.target`.

    Under teacher forcing with the target prefix, the argmax at every position equals the target
    token exactly when greedy decoding reproduces the target (and stops at its EOS).
    """
    batch = make_batch([pair], specials, device)
    logits = forward_logits(model, batch)
    return bool((logits[0].argmax(-1) == batch["labels"][0]).all())
