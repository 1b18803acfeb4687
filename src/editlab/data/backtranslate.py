"""Cao-style equivalence sets by round-trip translation en -> de -> en (docs/design.md §3).

As Cao et al. built `rephrases`: Marian opus-mt-en-de, then opus-mt-de-en, beam search with 5 beams
returning 5 hypotheses in each direction (up to 25 English candidates per input), duplicates removed
(first occurrence kept), the original input dropped. Applied to the KILT originals this rebuilds the
Cao-format files; fields Cao also shipped but that need their base model (`prediction`,
`alternatives`, `filtered_rephrases`) are not reconstructed (documented in docs/scaling.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from editlab.config import from_section, param
from editlab.data.readers import kilt_zsre_question
from editlab.errors import ConfigError, DataFormatError
from editlab.io import read_jsonl, write_jsonl

log = logging.getLogger("editlab.backtranslate")


@dataclass(frozen=True)
class BacktranslateConfig:
    """config section data.backtranslate: Cao-style rephrases by en->de->en round trip (docs/design.md §3)."""

    forward_model: str = param("Helsinki-NLP/opus-mt-en-de", "hub id or local directory")
    backward_model: str = param("Helsinki-NLP/opus-mt-de-en", "hub id or local directory")
    num_beams: int = param(5, "reference 5", minimum=1)
    num_return_sequences: int = param(5, "reference 5 (each direction)", minimum=1)
    batch_size: int = param(32, minimum=1)
    max_length: int = param(128, minimum=8)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> BacktranslateConfig:
        cfg = from_section(cls, section, "data.backtranslate")
        if cfg.num_return_sequences > cfg.num_beams:
            raise ConfigError("config key 'data.backtranslate.num_return_sequences': must not exceed num_beams "
                              f"({cfg.num_return_sequences} > {cfg.num_beams})")
        return cfg


def rephrases_from(original: str, candidates: Iterable[str]) -> list[str]:
    """Deduplicate candidates (order kept), drop empty ones and the original itself."""
    seen = {original.strip()}
    out = []
    for cand in candidates:
        text = cand.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def translate(model: Any, tokenizer: Any, texts: Sequence[str], cfg: BacktranslateConfig,
              device: str = "cpu") -> list[list[str]]:
    """`cfg.num_return_sequences` beam-search translations of every text, in input order."""
    import torch

    from editlab.progress import Progress

    out: list[list[str]] = []
    k = cfg.num_return_sequences
    bar = Progress(len(texts), "back-translate", unit="texts", logger=log)
    for start in range(0, len(texts), cfg.batch_size):
        batch = list(texts[start:start + cfg.batch_size])
        enc = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=cfg.max_length)
        enc = {name: t.to(device) for name, t in enc.items() if name in ("input_ids", "attention_mask")}
        with torch.no_grad():
            generated = model.generate(**enc, num_beams=cfg.num_beams, num_return_sequences=k,
                                       max_length=cfg.max_length, do_sample=False, early_stopping=True)
        decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
        # generate returns the k hypotheses of each input consecutively
        out.extend(decoded[i * k:(i + 1) * k] for i in range(len(batch)))
        bar.update(len(batch))
    bar.close()
    return out


def backtranslate(texts: Sequence[str], forward: tuple[Any, Any], backward: tuple[Any, Any],
                  cfg: BacktranslateConfig, device: str = "cpu") -> list[list[str]]:
    """Rephrases of every text: en -> k German -> k*k English candidates -> dedup, original dropped."""
    german = translate(*forward, texts, cfg, device)
    flat = [g for group in german for g in group]
    english = translate(*backward, flat, cfg, device)
    per_text = len(german[0]) if german else 0
    out = []
    for i, text in enumerate(texts):
        candidates = [e for group in english[i * per_text:(i + 1) * per_text] for e in group]
        out.append(rephrases_from(text, candidates))
    return out


def load_translator(name_or_path: str, device: str) -> tuple[Any, Any]:
    """(model, tokenizer) from the hub id or a local directory (the tests use tiny local models)."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(name_or_path).to(device).eval()
    return model, tokenizer


def add_rephrases(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], cfg: BacktranslateConfig,
                  device: str = "cpu") -> int:
    """Write the KILT records of `in_path` with back-translated `rephrases` (Cao format); return the count."""
    records = [obj for _, obj in read_jsonl(in_path)]
    for i, obj in enumerate(records):
        if not isinstance(obj.get("input"), str):
            raise DataFormatError(in_path, "field 'input' missing or not a string", line=i + 1)
        if "meta" in obj and isinstance(obj["meta"], dict) and "template_questions" in obj["meta"]:
            # KILT zsRE: `input` is "subject [SEP] relation"; the Cao-format file takes the question
            obj["kilt_input"] = obj["input"]
            obj["input"] = kilt_zsre_question(obj, in_path, i + 1)
    forward = load_translator(cfg.forward_model, device)
    backward = load_translator(cfg.backward_model, device)
    texts = [obj["input"] for obj in records]
    rephrases = backtranslate(texts, forward, backward, cfg, device)
    for obj, reph in zip(records, rephrases):
        obj["rephrases"] = reph
    write_jsonl(out_path, records)
    log.info("back-translated %d inputs of %s (mean %.1f rephrases)", len(records), in_path,
             sum(map(len, rephrases)) / max(1, len(rephrases)))
    return len(records)
