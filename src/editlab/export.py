"""Edited models as plain Hugging Face checkpoints (loadable with AutoModelFor... and no editlab import).

T-Patcher neurons become extra units of the patched FFN: key k_i as a new row of the up-projection, bias b_i
as its bias, value v_i as a new column of the down-projection, so act(W_in h + b)·W_out gains exactly
act(k_i·h + b_i)·v_i. The config has one FFN width for all layers of the stack (BERT `intermediate_size`,
BART/Marian `decoder_ffn_dim`), so the other layers get as many units with zero weights, zero bias and zero
output column: their contribution is exactly zero. FT, FT+KL and rank-one edits change weights in place and
are written as those weights. Before anything is written the reloaded checkpoint is compared with the
in-memory edited model; a model whose edit cannot be written exactly is refused, never written as a
checkpoint that loads as something else.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from editlab.errors import EditlabError
from editlab.io import atomic_dir

RECORDS_FILE = "edit_records.jsonl"
EDIT_INFO_FILE = "editlab_edit.json"
# Largest logit difference tolerated between the in-memory edited model and its reloaded checkpoint.
EXPORT_ATOL = 1e-4


def _ffn_stack(model: Any) -> tuple[str, list[tuple[str, str]]]:
    """(config attribute of the FFN width, [(up-projection, down-projection) module names per layer])."""
    name = type(model).__name__
    if name == "BertForSequenceClassification":
        n = len(model.bert.encoder.layer)
        return "intermediate_size", [(f"bert.encoder.layer.{i}.intermediate.dense", f"bert.encoder.layer.{i}.output.dense")
                                     for i in range(n)]
    if name in ("BartForConditionalGeneration", "MarianMTModel"):
        n = len(model.get_decoder().layers)
        return "decoder_ffn_dim", [(f"model.decoder.layers.{i}.fc1", f"model.decoder.layers.{i}.fc2") for i in range(n)]
    raise EditlabError(f"cannot write T-Patcher neurons of a {name} as a plain checkpoint "
                       "(supported: BertForSequenceClassification, BartForConditionalGeneration, MarianMTModel)")


def _check_site(model: Any, site: Any) -> tuple[str, list[tuple[str, str]]]:
    attr, layers = _ffn_stack(model)
    last_in, last_out = layers[-1]
    if model.get_submodule(last_in) is not site.fc_in or model.get_submodule(last_out) is not site.fc_out:
        raise EditlabError("the patched FFN is not the last layer's; it cannot be written as a plain checkpoint")
    if site.fc_in.bias is None and bool((site.bank.biases != 0).any()):
        raise EditlabError("the patched FFN's up-projection has no bias, the patch neurons have: not exactly writable")
    return attr, layers


def widened_state(model: Any, site: Any) -> tuple[str, list[tuple[str, str]], dict[str, torch.Tensor]]:
    """(width attribute, FFN module names, state dict with the patch neurons as extra units)."""
    bank = site.bank
    n = bank.n_committed
    attr, layers = _check_site(model, site)
    last_in = layers[-1][0]
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for up, down in layers:
        w_in = state[f"{up}.weight"]
        is_last = up == last_in
        rows = bank.keys.to(w_in) if is_last else torch.zeros(n, w_in.shape[1], dtype=w_in.dtype, device=w_in.device)
        state[f"{up}.weight"] = torch.cat([w_in, rows])
        if f"{up}.bias" in state:
            b_in = state[f"{up}.bias"]
            extra = bank.biases.to(b_in) if is_last else torch.zeros(n, dtype=b_in.dtype, device=b_in.device)
            state[f"{up}.bias"] = torch.cat([b_in, extra])
        w_out = state[f"{down}.weight"]
        cols = bank.values.T.to(w_out) if is_last else torch.zeros(w_out.shape[0], n, dtype=w_out.dtype,
                                                                   device=w_out.device)
        state[f"{down}.weight"] = torch.cat([w_out, cols], dim=1)
    return attr, layers, state


def widened_model(model: Any, site: Any) -> Any:
    """A new model whose patched FFN holds the committed patch neurons as extra units (others zero-padded)."""
    attr, _, state = widened_state(model, site)
    config = copy.deepcopy(model.config)
    setattr(config, attr, int(getattr(config, attr)) + site.bank.n_committed)
    new = type(model)(config).to(next(model.parameters()).device, next(model.parameters()).dtype)
    new.load_state_dict(state, strict=True)
    if getattr(model, "generation_config", None) is not None:
        new.generation_config = copy.deepcopy(model.generation_config)
    return new.eval()


@torch.no_grad()
def widen_in_place(model: Any, site: Any) -> Callable[[], None]:
    """Swap the FFN projections of `model` for ones holding the patch neurons as units (the structure the
    checkpoint will have, so the in-memory model computes exactly what the saved one does); returns the undo."""
    attr, layers, state = widened_state(model, site)
    swapped: list[tuple[Any, str, Any]] = []
    for name in [m for pair in layers for m in pair]:
        parent_name, child = name.rsplit(".", 1)
        parent = model.get_submodule(parent_name)
        old = getattr(parent, child)
        weight = state[f"{name}.weight"]
        new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=old.bias is not None,
                              device=weight.device, dtype=weight.dtype)
        new.weight.data.copy_(weight)
        if old.bias is not None:
            new.bias.data.copy_(state[f"{name}.bias"])
        new.requires_grad_(old.weight.requires_grad)
        swapped.append((parent, child, old))
        setattr(parent, child, new)
    width = int(getattr(model.config, attr))
    setattr(model.config, attr, width + site.bank.n_committed)

    def undo() -> None:
        for parent, child, old in swapped:
            setattr(parent, child, old)
        setattr(model.config, attr, width)

    return undo


@torch.no_grad()
def probe_logits(model: Any, tokenizer: Any, inputs: Sequence[str], targets: Sequence[str] | None,
                 max_length: int) -> torch.Tensor:
    """Eval-mode logits on `inputs` (seq2seq: teacher-forced on `targets`)."""
    from editlab.tasks import zsre

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        if targets is None:
            enc = tokenizer(list(inputs), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            return model(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device)).logits
        batch = zsre.encode(tokenizer, inputs, targets, max_length, model.config.decoder_start_token_id)
        batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
        return model(**batch).logits
    finally:
        model.train(was_training)


def check_reproduces(want: torch.Tensor, got: torch.Tensor, directory: str | Path) -> float:
    """The max |logit difference| of a reloaded checkpoint (`got`) from the edited model (`want`); above
    EXPORT_ATOL (relative to the logit scale) the write is refused."""
    err = float((want - got).abs().max()) if want.numel() else 0.0
    if not err <= EXPORT_ATOL * max(1.0, float(want.abs().max()) if want.numel() else 1.0):
        raise EditlabError(f"{directory}: the written checkpoint does not reproduce the edited model (max logit "
                           f"difference {err:.3g}); refusing to write it")
    return err


def check_same_weights(model: Any, reloaded: Any, directory: str | Path) -> None:
    """The reloaded checkpoint is the model's class with every tensor of its state dict equal, bit for bit
    (unknown keys are dropped and missing ones initialised by `from_pretrained` without an error)."""
    if type(reloaded) is not type(model):
        raise EditlabError(f"{directory}: the written checkpoint loads as a {type(reloaded).__name__}, not a "
                           f"{type(model).__name__}; refusing to write it")
    want, got = model.state_dict(), reloaded.state_dict()
    for key, value in want.items():
        other = got.get(key)
        if other is None or other.dtype != value.dtype or other.shape != value.shape \
                or not torch.equal(other.to(value.device), value):
            raise EditlabError(f"{directory}: the written checkpoint's {key} is not the edited model's; "
                               "refusing to write it")


def _probe(result: Any) -> tuple[list[str], list[str] | None]:
    """The requests' inputs (seq2seq: teacher-forced on their targets) as the comparison batch."""
    inputs = [r.input for r in result.records]
    targets = None if isinstance(result.records[0].target, int) else [str(r.target) for r in result.records]
    return inputs, targets


def save_edited(result: Any, directory: str | Path) -> Path:
    """Write `result`'s edited model, its tokenizer and the per-request records to `directory` (atomic)."""
    from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

    model = result.model   # T-Patcher: its FFNs already hold the neurons as units (api, widen_in_place)
    to_save = model
    inputs, targets = _probe(result)
    auto = AutoModelForSequenceClassification if targets is None else AutoModelForSeq2SeqLM
    with atomic_dir(directory) as tmp:
        to_save.save_pretrained(tmp)
        result.tokenizer.save_pretrained(tmp)
        reloaded = auto.from_pretrained(tmp).to(next(model.parameters()).device)
        want = probe_logits(model, result.tokenizer, inputs, targets, result.settings.max_length)
        got = probe_logits(reloaded, result.tokenizer, inputs, targets, result.settings.max_length)
        err = check_reproduces(want, got, directory)
        (tmp / RECORDS_FILE).write_text("".join(json.dumps(r.as_dict(), sort_keys=True) + "\n"
                                                for r in result.records), encoding="utf-8")
        info = {"method": result.method, "summary": result.summary, "neurons_as_ffn_units": result.n_neurons,
                "max_logit_difference_to_edited_model": err}
        (tmp / EDIT_INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Path(directory)
