"""Fine-tuning of the base models (docs/design.md §5): AdamW, linear warmup and decay, best-val (or last) epoch."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.progress import Progress
from editlab.tasks import fever, zsre

if TYPE_CHECKING:   # type hints only: importing transformers' model code costs ~2.4 s (workflow start-up)
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """config section base.<task>.train."""

    lr: float = param(exclusiveMinimum=0)
    weight_decay: float = param(minimum=0)
    warmup_steps: int = param(minimum=0)
    batch_size: int = param(minimum=1)
    epochs: int = param(minimum=1)
    max_length: int = param(minimum=4)
    max_updates: int | None = param(None, "linear decay reaches 0 here (zsRE reference 50k); null = total steps",
                                    minimum=1)
    entropy_coef: float = param(0.1, "FEVER reference subtracts this times the prediction entropy from the BCE loss")
    label_smoothing: float = param(0.1, minimum=0, maximum=1)
    eval_batch_size: int = param(256, minimum=1)
    selection: Literal["best_val", "last"] = param(
        "best_val", "best_val (reference) keeps the epoch with the best validation accuracy; last keeps the final "
        "epoch (mini FEVER: the tiny checker's validation accuracy peaks after one epoch, before it has memorised "
        "its training claims, so best_val would leave TrainR-subset accuracy near 0.8)")

    @classmethod
    def from_config(cls, section: Mapping[str, Any], where: str = "base.<task>.train") -> TrainConfig:
        return from_section(cls, section, where)


def evaluate(task: str, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, examples: list[Example],
             cfg: TrainConfig) -> float:
    """Accuracy: FEVER label accuracy, zsRE exact match of the greedy answer."""
    if not examples:
        return float("nan")
    texts = [ex.input for ex in examples]
    if task == "fever":
        preds = fever.predict(model, tokenizer, texts, max_length=cfg.max_length, batch_size=cfg.eval_batch_size)
        return fever.accuracy(preds, [ex.label for ex in examples])
    answers = zsre.generate(model, tokenizer, texts, max_length=cfg.max_length, batch_size=cfg.eval_batch_size)
    return zsre.accuracy(answers, [ex.answers for ex in examples])


def _batch_loss(task: str, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, chunk: list[Example],
                cfg: TrainConfig, device: torch.device) -> torch.Tensor:
    texts = [ex.input for ex in chunk]
    if task == "fever":
        batch = {k: v.to(device) for k, v in fever.encode(tokenizer, texts, cfg.max_length).items()}
        labels = torch.tensor([ex.label for ex in chunk], device=device)
        return fever.loss(fever.logits(model, batch), labels, cfg.entropy_coef)
    batch = zsre.encode(tokenizer, texts, [ex.answers[0] for ex in chunk], cfg.max_length,
                        decoder_start_token_id=model.config.decoder_start_token_id)
    batch = {k: v.to(device) for k, v in batch.items()}
    return zsre.loss(zsre.logits(model, batch), batch["labels"], cfg.label_smoothing)


def train_base(task: str, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, train: list[Example],
               val: list[Example], cfg: TrainConfig, seed: int) -> dict[str, Any]:
    """Train in place; the model ends holding the weights of the best validation epoch."""
    device = next(model.parameters()).device
    steps_per_epoch = (len(train) + cfg.batch_size - 1) // cfg.batch_size
    total = cfg.max_updates or steps_per_epoch * cfg.epochs
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "layernorm_embedding.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(1, cfg.warmup_steps), max(0.0, (total - s) / max(1, total - cfg.warmup_steps))))
    gen = torch.Generator().manual_seed(seed)
    best_acc, best_state, best_epoch, history = -1.0, None, -1, []
    step, t0 = 0, time.perf_counter()
    bar = Progress(min(total, steps_per_epoch * cfg.epochs), f"train {task} base model", unit="steps", logger=log)
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen).tolist()
        running = 0.0
        for start in range(0, len(order), cfg.batch_size):
            chunk = [train[i] for i in order[start:start + cfg.batch_size]]
            loss = _batch_loss(task, model, tokenizer, chunk, cfg, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            step += 1
            bar.update(epoch=epoch, loss=loss.item())
            if cfg.max_updates and step >= cfg.max_updates:
                break
        val_acc = evaluate(task, model, tokenizer, val, cfg)
        history.append({"epoch": epoch, "loss": running / steps_per_epoch, "val_acc": val_acc})
        log.info("epoch %d loss %.4f val_acc %.4f (%.0fs)", epoch, running / steps_per_epoch, val_acc,
                 time.perf_counter() - t0)
        if cfg.selection == "last":
            best_acc, best_epoch = val_acc, epoch
        elif val_acc > best_acc:
            best_acc, best_epoch = val_acc, epoch
            best_state = copy.deepcopy(model.state_dict())
        if cfg.max_updates and step >= cfg.max_updates:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {"best_epoch": best_epoch, "history": history, "updates": step, "train_seconds": time.perf_counter() - t0}
