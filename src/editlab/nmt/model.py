"""The NMT model: a tiny Marian trained from scratch on the toy pair, or a hub checkpoint; greedy decoding."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from editlab.config import from_section, param
from editlab.errors import DataFormatError
from editlab.nmt.tokenizer import HubTokenizer, NMTTokenizer, WordTokenizer
from editlab.progress import Progress
from editlab.rome.batches import Seq2SeqIds, make_batch

log = logging.getLogger("editlab.nmt")


@dataclass(frozen=True)
class MarianArch:
    """config section nmt.model.arch (source toy)."""

    d_model: int = param(128, minimum=8)
    encoder_layers: int = param(2, minimum=1)
    decoder_layers: int = param(2, minimum=1)
    heads: int = param(4, minimum=1)
    ffn_dim: int = param(512, minimum=8)
    dropout: float = param(0.0, minimum=0, maximum=1)
    max_positions: int = param(64, minimum=8)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> MarianArch:
        return from_section(cls, section, "nmt.model.arch")


@dataclass(frozen=True)
class TrainConfig:
    """config section nmt.model.train (source toy)."""

    lr: float = param(1e-3, exclusiveMinimum=0)
    batch_size: int = param(64, minimum=1)
    epochs: int = param(15, minimum=1)
    warmup_steps: int = param(100, minimum=0)
    weight_decay: float = param(0.0, minimum=0)
    label_smoothing: float = param(0.0, minimum=0, maximum=1)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> TrainConfig:
        return from_section(cls, section, "nmt.model.train")


def build_marian(arch: MarianArch, vocab_size: int) -> torch.nn.Module:
    from transformers import MarianConfig, MarianMTModel

    config = MarianConfig(
        vocab_size=vocab_size, d_model=arch.d_model, encoder_layers=arch.encoder_layers,
        decoder_layers=arch.decoder_layers, encoder_attention_heads=arch.heads, decoder_attention_heads=arch.heads,
        encoder_ffn_dim=arch.ffn_dim, decoder_ffn_dim=arch.ffn_dim, dropout=arch.dropout, attention_dropout=0.0,
        activation_dropout=0.0, max_position_embeddings=arch.max_positions, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0, forced_eos_token_id=None, bos_token_id=None, scale_embedding=True,
    )
    return MarianMTModel(config)


def train_model(model: torch.nn.Module, tok: NMTTokenizer, pairs: Sequence[tuple[str, str]], cfg: TrainConfig,
                seed: int, device: str = "cpu") -> list[float]:
    """Teacher-forced cross-entropy with AdamW and linear warmup/decay; returns the mean loss per epoch."""
    data = [Seq2SeqIds(tok.encode_source(s), tok.encode_target(t)) for s, t in pairs]
    steps_per_epoch = (len(data) + cfg.batch_size - 1) // cfg.batch_size
    total = steps_per_epoch * cfg.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / max(1, cfg.warmup_steps), max(0.0, (total - step) / max(1, total - cfg.warmup_steps))))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=cfg.label_smoothing)
    rng = random.Random(seed)
    model.to(device).train()
    history = []
    bar = Progress(total, "train NMT model", unit="steps", logger=log)
    for epoch in range(cfg.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        running = 0.0
        for start in range(0, len(order), cfg.batch_size):
            batch = make_batch([data[i] for i in order[start : start + cfg.batch_size]], tok.specials, device)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           decoder_input_ids=batch["decoder_input_ids"],
                           decoder_attention_mask=batch["decoder_attention_mask"]).logits
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += float(loss.detach())
            bar.update(epoch=epoch + 1, loss=float(loss.detach()))
        history.append(running / steps_per_epoch)
        log.info("epoch %d loss %.4f", epoch + 1, history[-1])
    bar.close()
    model.eval()
    return history


@torch.no_grad()
def translate(model: torch.nn.Module, tok: NMTTokenizer, sources: Sequence[str], batch_size: int = 128,
              max_new_tokens: int = 32, device: str = "cpu", progress: str | None = None) -> list[str]:
    """Greedy decoding (the edit criterion is greedy: see rome.batches.predicts_target). `progress`: a stage
    name to report progress under (long translations, e.g. the mining pool)."""
    model.eval()
    out: list[str] = []
    bar = Progress(len(sources), progress, unit="sentences", logger=log) if progress else None
    for start in range(0, len(sources), batch_size):
        chunk = sources[start : start + batch_size]
        batch = make_batch([Seq2SeqIds(tok.encode_source(s), [tok.eos_id]) for s in chunk], tok.specials, device)
        generated = model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                   num_beams=1, do_sample=False, max_new_tokens=max_new_tokens,
                                   decoder_start_token_id=tok.specials.decoder_start_id,
                                   eos_token_id=tok.eos_id, pad_token_id=tok.specials.pad_id)
        out += [tok.decode(row.tolist()) for row in generated]
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out


def save_model(model: torch.nn.Module, tok: WordTokenizer, directory: str | os.PathLike[str]) -> None:
    model.save_pretrained(str(directory))
    tok.save(directory)


def load_model(directory: str | os.PathLike[str], device: str = "cpu") -> tuple[torch.nn.Module, NMTTokenizer]:
    """A model directory written by save_model (toy) or by the hub download rule (config.json + tokenizer)."""
    from transformers import AutoModelForSeq2SeqLM

    path = Path(directory)
    if not (path / "config.json").exists():
        raise DataFormatError(path, "not a model directory (config.json missing)")
    from safetensors import SafetensorError

    from editlab.models.build import first_line

    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(str(path)).to(device).eval()
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:   # missing or damaged weights
        raise DataFormatError(path, f"cannot load the NMT model: {first_line(exc)}") from None
    tok: NMTTokenizer
    if (path / "word_vocab.json").exists():
        tok = WordTokenizer.load(path)
    else:
        from transformers import AutoTokenizer

        tok = HubTokenizer(AutoTokenizer.from_pretrained(str(path)), int(model.config.decoder_start_token_id))
    return model, tok


def download_hub_model(hub_id: str, directory: str | os.PathLike[str], revision: str | None = None) -> None:
    """Paper profile: copy a hub checkpoint (e.g. Helsinki-NLP/opus-mt-en-de; in a GPU job from the HF cache
    prefetch_hub filled) into a model directory, with the commit it is (editlab.hub.HUB_RECORD)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from editlab.hub import model_record, write_record

    model = AutoModelForSeq2SeqLM.from_pretrained(hub_id, revision=revision)
    model.save_pretrained(str(directory))
    AutoTokenizer.from_pretrained(hub_id, revision=revision).save_pretrained(str(directory))
    write_record(directory, model_record(model, hub_id, revision))
