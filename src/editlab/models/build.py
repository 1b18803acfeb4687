"""Build (mini) or load (paper) the base models, and load a trained base model directory.

FEVER: `BertForSequenceClassification` with one label = [CLS] pooler -> Linear(hidden, 1); SUPPORTS iff
logit > 0. zsRE: `BartForConditionalGeneration`, decoder starts with </s> so the target reads
`</s> <s> answer </s>` as in the reference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from editlab.errors import EditlabError
from editlab.models.tokenizer import train_bart_tokenizer, train_bert_tokenizer

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json")
TASK_MODEL_CLASSES = {"fever": AutoModelForSequenceClassification, "zsre": AutoModelForSeq2SeqLM}
# Dropout on the pooled [CLS] vector before the FEVER classifier (`base.fever.model.classifier_dropout`). The
# reference's BertClassifier is Linear(pooler output) with no dropout (Transformer-Patcher
# src/models/class_modules.py:639-646); AutoModelForSequenceClassification would apply hidden_dropout_prob.
CLASSIFIER_DROPOUT = 0.0


def tiny_bert(arch: Mapping[str, Any], vocab_size: int, max_positions: int = 64,
              classifier_dropout: float = CLASSIFIER_DROPOUT) -> BertForSequenceClassification:
    dropout = arch.get("dropout", 0.1)
    config = BertConfig(vocab_size=vocab_size, hidden_size=arch["hidden_size"], num_hidden_layers=arch["layers"],
                        num_attention_heads=arch["heads"], intermediate_size=arch["intermediate_size"],
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
                        classifier_dropout=classifier_dropout,
                        max_position_embeddings=max_positions, num_labels=1, pad_token_id=0)
    return BertForSequenceClassification(config)


def tiny_bart(arch: Mapping[str, Any], vocab_size: int, max_positions: int = 64) -> BartForConditionalGeneration:
    config = BartConfig(vocab_size=vocab_size, d_model=arch["hidden_size"], encoder_layers=arch["layers"],
                        decoder_layers=arch.get("decoder_layers", arch["layers"]),
                        encoder_attention_heads=arch["heads"], decoder_attention_heads=arch["heads"],
                        encoder_ffn_dim=arch["intermediate_size"], decoder_ffn_dim=arch["intermediate_size"],
                        dropout=arch.get("dropout", 0.1), attention_dropout=0.0, activation_dropout=0.0,
                        max_position_embeddings=max_positions, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2, scale_embedding=False)
    return BartForConditionalGeneration(config)


def new_base_model(task: str, model_cfg: Mapping[str, Any], corpus: list[str]) -> tuple[PreTrainedModel,
                                                                                    PreTrainedTokenizerBase]:
    """A fresh model to fine-tune: tiny from scratch (tokenizer trained on `corpus`) or the hub checkpoint."""
    classifier_dropout = float(model_cfg.get("classifier_dropout", CLASSIFIER_DROPOUT))
    if model_cfg["source"] == "hub":
        return load_hub_model(task, model_cfg["hub_id"], classifier_dropout, model_cfg.get("revision"))
    arch = model_cfg["arch"]
    min_freq = arch.get("vocab_min_frequency", 1)
    if task == "fever":
        tok = train_bert_tokenizer(corpus, min_freq)
        return tiny_bert(arch, len(tok), classifier_dropout=classifier_dropout), tok
    tok = train_bart_tokenizer(corpus, min_freq)
    return tiny_bart(arch, len(tok)), tok


def load_hub_model(task: str, hub_id: str, classifier_dropout: float = CLASSIFIER_DROPOUT,
                   revision: str | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Paper profile: bert-base-uncased / facebook/bart-base from the hub (the local HF cache in a GPU job,
    filled by prefetch_hub) at `revision` (None = latest); editlab.hub.model_record names the commit loaded."""
    kwargs: dict[str, Any] = {"num_labels": 1, "classifier_dropout": classifier_dropout} if task == "fever" else {}
    try:
        tok = AutoTokenizer.from_pretrained(hub_id, revision=revision)
        model = TASK_MODEL_CLASSES[task].from_pretrained(hub_id, revision=revision, **kwargs)
    except OSError as exc:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        raise EditlabError(f"cannot load model {hub_id!r} for {task}"
                           f"{' (HF_HUB_OFFLINE=1 and it is not in the local cache)' if offline else ''}: "
                           f"{first_line(exc)}") from None
    return model, tok


def save_base_model(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, directory: str | Path) -> None:
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)


# config.yaml `base.<task>.model.arch` key -> the checkpoint's config attribute
ARCH_FIELDS = {
    "fever": {"hidden_size": "hidden_size", "layers": "num_hidden_layers", "heads": "num_attention_heads",
              "intermediate_size": "intermediate_size"},
    "zsre": {"hidden_size": "d_model", "layers": "encoder_layers", "decoder_layers": "decoder_layers",
             "heads": "encoder_attention_heads", "intermediate_size": "decoder_ffn_dim"},
}


def first_line(exc: BaseException) -> str:
    """Library errors (transformers, hub) can span many lines; the user gets the first."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_architecture(task: str, model: PreTrainedModel, model_cfg: Mapping[str, Any], directory: str | Path) -> None:
    """Refuse a checkpoint whose shape is not the one `base.<task>.model` describes (a stale or foreign
    model directory would otherwise be edited and reported as if it were the configured one)."""
    cfg = model.config
    if task == "fever" and getattr(cfg, "num_labels", 1) != 1:
        raise EditlabError(f"{directory}: the FEVER base model must have one output logit, "
                           f"the checkpoint has num_labels={cfg.num_labels}")
    if model_cfg.get("source") != "scratch":
        return
    arch = dict(model_cfg.get("arch") or {})
    if task == "zsre":
        arch.setdefault("decoder_layers", arch.get("layers"))
    for key, attr in ARCH_FIELDS[task].items():
        if key in arch and getattr(cfg, attr, None) != arch[key]:
            raise EditlabError(f"{directory}: checkpoint does not match config key 'base.{task}.model.arch.{key}': "
                               f"checkpoint has {attr}={getattr(cfg, attr, None)}, config says {arch[key]}")


def load_base_model(task: str, directory: str | Path, device: str | torch.device = "cpu",
                    expected: Mapping[str, Any] | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A trained base model directory (as written by the base_model rule), in eval mode; `expected` (the
    config's `base.<task>.model`) is checked against the checkpoint's architecture."""
    path = Path(directory)
    if not (path / "config.json").is_file():
        raise EditlabError(f"{path}: not a base model directory (no config.json)")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        # transformers would quietly build an empty tokenizer (every word [UNK]) and the edits run on that
        raise EditlabError(f"{path}: no tokenizer files ({' / '.join(TOKENIZER_FILES)}); the directory is "
                           "incomplete (copy the whole model directory the base_model rule wrote)")
    try:
        tok = AutoTokenizer.from_pretrained(path)
        model = TASK_MODEL_CLASSES[task].from_pretrained(path)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        # also a truncated model.safetensors (SafetensorError) and weights of another shape (RuntimeError)
        raise EditlabError(f"{path}: cannot load the {task} base model: {first_line(exc)}") from None
    n_embeddings = model.get_input_embeddings().num_embeddings
    if len(tok) > n_embeddings:
        raise EditlabError(f"{path}: the tokenizer has {len(tok)} tokens, the model embeds only {n_embeddings} "
                           "(tokenizer and weights come from different models)")
    if expected is not None:
        check_architecture(task, model, expected, path)
    return model.to(device).eval(), tok
