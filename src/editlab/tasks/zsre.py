"""zsRE closed-book QA with a seq2seq model: target `</s> <s> answer </s>`, greedy decoding, exact match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from editlab.tasks import batched

if TYPE_CHECKING:   # type hints only: importing transformers' model code costs ~2.4 s (workflow start-up)
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def normalize(text: str) -> str:
    return text.strip().lower()


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """Lower-cased, stripped prediction equals a gold answer (DESIGN §7)."""
    return normalize(prediction) in {normalize(a) for a in answers}


def encode(tokenizer: PreTrainedTokenizerBase, questions: Sequence[str], answers: Sequence[str] | None = None,
           max_length: int = 32, decoder_start_token_id: int | None = None) -> dict[str, torch.Tensor]:
    """Inputs, and for training: labels `<s> answer </s>` (pad -> -100) and decoder inputs shifted right
    behind the start token (</s> for BART), i.e. the decoder reads `</s> <s> answer`."""
    enc = tokenizer(list(questions), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    if answers is not None:
        tgt = tokenizer(list(answers), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        labels = tgt["input_ids"].masked_fill(tgt["attention_mask"] == 0, -100)
        start = tokenizer.eos_token_id if decoder_start_token_id is None else decoder_start_token_id
        dec = torch.full_like(tgt["input_ids"], tokenizer.pad_token_id)
        dec[:, 0] = start
        dec[:, 1:] = tgt["input_ids"][:, :-1]
        batch.update(labels=labels, decoder_input_ids=dec, decoder_attention_mask=torch.cat(
            [torch.ones_like(tgt["attention_mask"][:, :1]), tgt["attention_mask"][:, :-1]], dim=1))
    return batch


def logits(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                 decoder_input_ids=batch["decoder_input_ids"],
                 decoder_attention_mask=batch.get("decoder_attention_mask")).logits


def loss(token_logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.1) -> torch.Tensor:
    return F.cross_entropy(token_logits.reshape(-1, token_logits.size(-1)), labels.reshape(-1),
                           ignore_index=-100, label_smoothing=label_smoothing)


@torch.no_grad()
def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, questions: Sequence[str], *,
             max_length: int = 32, batch_size: int = 256) -> list[str]:
    """Greedy decoding (one beam, no sampling, no n-gram blocking), special tokens stripped."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[str] = []
    for chunk in batched(questions, batch_size):
        enc = encode(tokenizer, chunk, max_length=max_length)
        ids = model.generate(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device),
                             max_new_tokens=max_length, num_beams=1, do_sample=False, no_repeat_ngram_size=0,
                             min_length=0, decoder_start_token_id=model.config.decoder_start_token_id)
        out += tokenizer.batch_decode(ids, skip_special_tokens=True)
    model.train(was_training)
    return [o.strip() for o in out]


def accuracy(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    return sum(exact_match(p, a) for p, a in zip(predictions, answers, strict=True)) / max(1, len(answers))
