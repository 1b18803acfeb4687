"""Seconds per T-Patcher edit on the cached and reference paths (docs/design.md §9, §11 `edit_speed.py`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from transformers import BartConfig, BartForConditionalGeneration, BertConfig, BertForSequenceClassification

from editlab.data.readers import read_task_file, select
from editlab.data.records import Example
from editlab.editors.site import ffn_site
from editlab.editors.task_ops import task_ops
from editlab.editors.tpatcher import TPatcher, TPatcherParams
from editlab.errors import EditlabError
from editlab.io import read_ids
from editlab.layout import Layout
from editlab.models.build import load_base_model
from editlab.models.tokenizer import train_bart_tokenizer, train_bert_tokenizer
from editlab.sme.paths import DROPOUT_DRAWS, execution_path

log = logging.getLogger(__name__)

ModelFactory = Callable[[], tuple[Any, Any]]


@dataclass(frozen=True)
class FoldInputs:
    """What timing a trained base model needs: the model factory, fold 0 as the stream, memory, val."""

    make_model: ModelFactory
    stream: list[Example]
    memory: list[Example]
    val: list[Example]
    params: TPatcherParams
    base_train: Mapping[str, Any]


def fold_inputs(task: str, layout: Layout, config: Mapping[str, Any]) -> FoldInputs:
    """Fold 0 of a finished run (data, splits and base model as `layout` places them), with the config's settings."""
    train = read_task_file(task, layout.data_file(task, "train"))
    part = lambda name: select(train, read_ids(layout.split_file(task, name)))  # noqa: E731
    return FoldInputs(lambda: load_base_model(task, Path(layout.base_model(task))), part("fold0"),
                      part("memory"), part("val"), TPatcherParams.from_config(config["sme"]["tpatcher"], task),
                      config["base"][task]["train"])


def time_path(task: str, make_model: ModelFactory, stream: Sequence[Example], memory: Sequence[Example],
              val: Sequence[Example], params: TPatcherParams, base_train: Mapping[str, Any], path_name: str,
              n_edits: int, seed: int = 0, dropout_draws: int = DROPOUT_DRAWS,
              draws_per_forward: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """Edit the first `n_edits` mistakes of `stream` (judged by the fresh model) and time each edit on `device`."""
    torch.manual_seed(seed)
    model, tokenizer = make_model()
    model.requires_grad_(False).to(device)
    site = ffn_site(task, model)
    path = execution_path(path_name, site, task_ops(task, tokenizer, model, dict(base_train)), device,
                          dropout_draws=dropout_draws, draws_per_forward=draws_per_forward)
    editor = TPatcher(params, seed)
    editor.prepare(path, memory, val)
    seconds, steps, success = [], [], []
    for example in stream:
        if len(seconds) >= n_edits:
            break
        if path.correct([example])[0]:
            continue
        _synchronize(device)
        start = time.perf_counter()
        outcome = editor.edit(example, len(seconds))
        _synchronize(device)   # the edit's queued GPU work belongs to its time
        seconds.append(time.perf_counter() - start)
        steps.append(outcome.steps)
        success.append(path.correct([example])[0])
        log.info("%s %s edit %d: %.3f s, %d steps, success %s", task, path_name, len(seconds), seconds[-1],
                 steps[-1], success[-1])
    n = max(1, len(seconds))
    return {"s_per_edit": sum(seconds) / n, "n_edits": len(seconds), "mean_steps": sum(steps) / n,
            "SR": sum(success) / n, "steps": steps, "dropout": not site.train_mode_is_eval_mode}


def _is_cuda(device: str) -> bool:
    return torch.device(device).type == "cuda"


def _synchronize(device: str) -> None:
    if _is_cuda(device):
        torch.cuda.synchronize(device)


def check_device(device: str) -> None:
    """A one-line error unless this machine has `device` (cpu or cuda[:N])."""
    try:
        kind = torch.device(device).type
    except RuntimeError as err:
        raise EditlabError(f"device {device!r}: not a torch device ({err})") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise EditlabError(f"device {device!r}: torch {torch.__version__} sees no CUDA GPU on this machine")
    if kind not in ("cpu", "cuda"):
        raise EditlabError(f"device {device!r}: the speed benchmark runs on cpu or cuda")


def compare_paths(task: str, make_model: ModelFactory, stream: Sequence[Example], memory: Sequence[Example],
                  val: Sequence[Example], params: TPatcherParams, base_train: Mapping[str, Any],
                  n_edits: int, dropout_draws: int = DROPOUT_DRAWS, device: str = "cpu") -> dict[str, Any]:
    runs = {name: time_path(task, make_model, stream, memory, val, params, base_train, name, n_edits,
                            dropout_draws=dropout_draws, device=device)
            for name in ("reference", "cached")}
    ref, cached = runs["reference"], runs["cached"]
    draws: dict[str, Any] = {}
    if cached["dropout"]:
        # The same edits with one train-mode forward per dropout draw (before issue 15's stacked draws).
        per_draw = time_path(task, make_model, stream, memory, val, params, base_train, "cached", n_edits,
                             dropout_draws=dropout_draws, draws_per_forward=1, device=device)
        draws = {"cached_per_draw_s_per_edit": per_draw["s_per_edit"],
                 "stacked_draws_speedup": per_draw["s_per_edit"] / cached["s_per_edit"] if cached["s_per_edit"] else None}
    # Per step too: round-off can stop the two paths' edits a validation interval apart (both dropout-free
    # mini models), which moves the per-edit ratio without saying anything about the cost of a step.
    per_step = {name: r["s_per_edit"] / r["mean_steps"] if r["mean_steps"] else None for name, r in runs.items()}
    return {"reference_s_per_edit": ref["s_per_edit"], "cached_s_per_edit": cached["s_per_edit"],
            "ratio": ref["s_per_edit"] / cached["s_per_edit"] if cached["s_per_edit"] else None,
            "reference_s_per_step": per_step["reference"], "cached_s_per_step": per_step["cached"],
            "step_ratio": (per_step["reference"] / per_step["cached"]
                           if per_step["reference"] and per_step["cached"] else None),
            "reference_SR": ref["SR"], "cached_SR": cached["SR"], "n_edits": cached["n_edits"],
            "reference_mean_steps": ref["mean_steps"], "cached_mean_steps": cached["mean_steps"], **draws,
            "device": device, **({"gpu": torch.cuda.get_device_name(device)} if _is_cuda(device) else {})}


def synthetic_examples(task: str, n: int, seed: int = 0) -> list[Example]:
    """Random word sequences (timing only): claims with labels, or questions with 2-3 word answers."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(2000)]
    out = []
    for i in range(n):
        text = " ".join(rng.choices(words, k=rng.randint(10, 20)))
        answers = (rng.choice(("SUPPORTS", "REFUTES")),) if task == "fever" else (" ".join(rng.choices(words, k=3)),)
        out.append(Example(f"s{i}", text, answers, (text + " again",)))
    return out


def base_sized_factory(task: str, corpus: Sequence[str]) -> ModelFactory:
    """Randomly initialised bert-base-uncased / bart-base shaped models (vocab sizes included)."""
    def make() -> tuple[Any, Any]:
        if task == "fever":
            tok = train_bert_tokenizer(corpus)
            config = BertConfig(vocab_size=30522, num_labels=1)   # 12 x 768, FFN 3072, as bert-base
            return BertForSequenceClassification(config).eval(), tok
        tok = train_bart_tokenizer(corpus)
        config = BartConfig(vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6,
                            encoder_attention_heads=12, decoder_attention_heads=12, encoder_ffn_dim=3072,
                            decoder_ffn_dim=3072, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                            decoder_start_token_id=2, forced_eos_token_id=2)   # as facebook/bart-base
        return BartForConditionalGeneration(config).eval(), tok
    return make


def fixed_steps(params: TPatcherParams, steps: int) -> TPatcherParams:
    """Random weights never converge the way trained ones do: time a fixed number of steps instead."""
    return replace(params, max_steps=steps, val_start=steps)


SPEED_TASKS = ("fever", "zsre", "fever_base", "zsre_base")


def speed_report(config: Mapping[str, Any], layout: Layout, tasks: Sequence[str] = SPEED_TASKS, *, edits: int = 5,
                 base_edits: int = 2, base_steps: int = 150, base_memory: int = 1000, device: str = "cpu"
                 ) -> dict[str, Any]:
    """`benchmarks/edit_speed.py`: both paths side by side per task. `fever`/`zsre`: the trained models of
    the run `layout` places on the first `edits` mistakes of fold 0; `fever_base`/`zsre_base`: randomly initialised
    bert-base / bart-base shaped models, `base_edits` synthetic mistakes of `base_steps` steps each. Every task
    on `device`; each case says which (`device`, and `gpu`, the GPU's name, where it is one)."""
    check_device(device)
    draws = int(config["sme"].get("cached_dropout_draws", DROPOUT_DRAWS))  # absent: the SMEParams default
    report: dict[str, Any] = {}
    for task in tasks:
        if task in ("fever", "zsre"):
            f = fold_inputs(task, layout, config)
            report[task] = compare_paths(task, f.make_model, f.stream, f.memory, f.val, f.params, f.base_train,
                                         edits, draws, device)
        elif task in ("fever_base", "zsre_base"):
            name = task.removesuffix("_base")
            examples = synthetic_examples(name, 40 + base_memory)
            corpus = [t for e in examples for t in (e.input, *e.answers, *e.rephrases)]
            params = fixed_steps(TPatcherParams.from_config(config["sme"]["tpatcher"], name), base_steps)
            report[task] = compare_paths(name, base_sized_factory(name, corpus), examples[:40], examples[40:],
                                         examples[40:], params, {"max_length": 32}, base_edits, draws, device) | {
                "steps_per_edit": base_steps, "memory_examples": base_memory}
        else:
            raise ValueError(f"unknown edit_speed task {task!r} (expected one of {', '.join(SPEED_TASKS)})")
        log.info("edit_speed %s: %s", task, report[task])
    return report
