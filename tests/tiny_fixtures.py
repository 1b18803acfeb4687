"""Tiny local BERT / BART / Marian / T5 checkpoints (editlab.tiny_models), built once per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    import torch

    from editlab.tiny_models import make_tiny_models

    torch.set_num_threads(1)
    # One build per session even though several test modules import this fixture (each import registers its own
    # copy): the directory under the session's base temp is shared. Exactly what `python -m editlab.tiny_models
    # DIR` writes (the README's first step).
    out = tmp_path_factory.getbasetemp() / "tiny-models" / "tiny"
    if not (out.parent / "complete").exists():
        make_tiny_models(out)
        (out.parent / "complete").write_text("ok\n")
    return out


def load_tiny(tiny: Path, name: str) -> tuple[Any, Any, list[dict[str, Any]], list[str], list[str]]:
    """(model, tokenizer, requests, memory, held-out inputs) of one tiny checkpoint."""
    from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoTokenizer

    kind = "classifier" if name == "bert" else "seq2seq"
    auto = AutoModelForSequenceClassification if name == "bert" else AutoModelForSeq2SeqLM
    model = auto.from_pretrained(tiny / name).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny / name)
    requests = [json.loads(line) for line in (tiny / f"{kind}_requests.jsonl").read_text().splitlines()]
    memory = (tiny / f"{kind}_memory.txt").read_text().splitlines()
    held_out = (tiny / f"{kind}_held_out.txt").read_text().splitlines()
    return model, tokenizer, requests, memory, held_out
