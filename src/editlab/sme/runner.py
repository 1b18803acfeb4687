"""One SME stream end to end: load the base model and splits, visit the stream, edit the current
mistakes, write edits.jsonl / curve.jsonl / summary.json (and activations.npz for T-Patcher)."""

from __future__ import annotations

import logging
import random
import resource
import sys
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from editlab.config import check_keys, schema_keys
from editlab.data.readers import read_task_file, select
from editlab.data.records import Example
from editlab.editors import build_editor
from editlab.editors.site import ffn_site
from editlab.editors.task_ops import task_ops
from editlab.errors import ConfigError, DataFormatError
from editlab.hub import read_record
from editlab.io import atomic_path, clean_leftovers, read_ids, write_json, write_jsonl
from editlab.models.build import load_base_model
from editlab.patchfile import export_fold_patches
from editlab.progress import Progress
from editlab.provenance import provenance
from editlab.runtime import configure_torch
from editlab.sme.metrics import PROTOCOL, accuracy, pooled_counts, stream_metrics
from editlab.sme.paths import DROPOUT_DRAWS, PATHS, ExecutionPath, execution_path
from editlab.sme.resume import (
    RESUME_FILE,
    edited_examples,
    job_fingerprint,
    load_checkpoint,
    remove_checkpoint,
    resume_from,
    save_checkpoint,
)
from editlab.sme.state import StreamState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SMEParams:
    path: str = "cached"
    checkpoint_every: int = 50
    resume_every: int = 10                 # resume checkpoint every N edits (0: never)
    gr_max_rephrases: int | None = None    # zsRE: 5 (sampled, seeded); FEVER: all
    n_test_shown: int = 200                # test inputs in activations.npz
    eval_batch_size: int = 256
    dropout_draws: int = DROPOUT_DRAWS     # cached path: dropout draws of the edit copies per edit
    # GR over the rephrases as the data files give them, the question itself included where Cao's zsRE
    # rephrases contain it (the reference samples from all: zsre_dataloader.py:58-60); false: leave it out.
    gr_include_input: bool = True

    @classmethod
    def from_config(cls, sme: Mapping[str, Any], task: str) -> SMEParams:
        # The section holds the methods' hyperparameters too: its keys are the schema's (one unknown-key policy).
        check_keys(sme, schema_keys("sme.schema.yaml"), "sme")
        gr = sme.get("gr_max_rephrases", {})
        params = cls(path=sme.get("path", "cached"), checkpoint_every=int(sme.get("checkpoint_every", 50)),
                     resume_every=int(sme.get("resume_every", 10)),
                     gr_max_rephrases=gr.get(task) if isinstance(gr, Mapping) else gr,
                     n_test_shown=int(sme.get("n_test_shown", 200)),
                     eval_batch_size=int(sme.get("eval_batch_size", 256)),
                     dropout_draws=int(sme.get("cached_dropout_draws", DROPOUT_DRAWS)),
                     gr_include_input=bool(sme.get("gr_include_input", True)))
        if params.path not in PATHS:
            raise ConfigError(f"config key 'sme.path': {params.path!r} is not one of {', '.join(PATHS)}")
        return params


def stream_seed(seed: int, task: str, method: str, fold: str) -> int:
    """Per-stream seed from the config seed; the path is left out so both paths draw the same patches."""
    return zlib.crc32(f"{seed}:{task}:{method}:{fold}".encode())


def gr_texts(example: Example, include_input: bool = True) -> tuple[str, ...]:
    """The texts GR is measured on: every rephrase (the reference), or those other than the input."""
    return example.rephrases if include_input else example.equivalents


def equivalents(example: Example, limit: int | None, seed: int, include_input: bool = True) -> list[Example]:
    """The equivalence set of an edit as examples with the same answers (up to `limit`, seeded sample)."""
    texts = list(gr_texts(example, include_input))
    if limit is not None and len(texts) > limit:
        texts = random.Random(f"{seed}:{example.id}").sample(texts, limit)
    return [Example(f"{example.id}#r{i}", t, example.answers) for i, t in enumerate(texts)]


def check_rephrases(examples: Sequence[Example], source: str, data_file: str) -> None:
    """Edit examples must have rephrases (the reference's edit sets require them), as the split kept them.
    With `gr_include_input: false` an edit whose rephrases only repeat the input gets `gr: null`."""
    for ex in examples:
        if not ex.rephrases:
            raise DataFormatError(source, f"edit example {ex.id!r} has no rephrases in {data_file} while "
                                          "splits.<task>.edit_needs_rephrases is true")


@dataclass
class StreamData:
    stream: list[Example]
    trainr: list[Example]
    test: list[Example]
    memory: list[Example]
    val: list[Example]


def load_stream_data(task: str, files: Mapping[str, Any]) -> StreamData:
    train_file = read_task_file(task, files["train_data"])
    dev_file = read_task_file(task, files["dev_data"])

    def part(name: str, source: list[Example]) -> list[Example]:
        return select(source, read_ids(files[name]), source=files[name])

    stream: list[Example] = []
    for fold_file in files["folds"]:
        stream += select(train_file, read_ids(fold_file), source=fold_file)
    return StreamData(stream, part("trainr", train_file), part("test", dev_file), part("memory", train_file),
                      part("val", train_file))


def check_memory(method: str, task: str, memory: Sequence[Example], memory_file: Any) -> None:
    """T-Patcher's memory loss keeps the patch silent on the memory set; with none the stream still runs and
    reports a collapsed TrainR without a word, so it is refused (the NMT T-Patcher refuses it too)."""
    if method == "tpatcher" and not memory:
        raise ConfigError(f"config key 'splits.{task}.memory_size': T-Patcher needs a non-empty memory set "
                          f"({memory_file} has no ids); set memory_size to at least 1")


def _accuracies(path: ExecutionPath) -> tuple[float, float]:
    return accuracy(path.set_correct("trainr")), accuracy(path.set_correct("test"))


@torch.no_grad()
def _max_pre_activation(path: ExecutionPath, examples: Sequence[Example]) -> np.ndarray:
    """[n_patches, n_examples]: each patch's pre-activation on each example's query (zsRE: max over the
    decoder positions of every gold answer)."""
    bank = path.site.bank
    cols = []
    for q, enc in path.chunked_queries(examples):
        acts = bank.pre_activation(q)
        if acts.dim() == 3:
            mask = enc.batch["decoder_attention_mask"].bool()[..., None]
            acts = acts.masked_fill(~mask, float("-inf")).amax(1)
            per_example = torch.full((enc.n_examples, acts.shape[-1]), float("-inf"), device=acts.device)
            per_example.scatter_reduce_(0, enc.owner[:, None].expand_as(acts), acts, "amax")
            acts = per_example
        cols.append(acts)
    if not cols:
        return np.zeros((bank.n_committed, 0), dtype=np.float32)
    return torch.cat(cols).T.float().cpu().numpy()


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def edit_limit(sme: Mapping[str, Any], fold: str, method: str) -> int | None:
    """`sme.long_stream.max_edits` for the long stream (it stops after that many edits; one number for every
    method, or one per method); None for a fold or where it is unset."""
    limit = (sme.get("long_stream") or {}).get("max_edits") if fold == "long" else None
    key = "sme.long_stream.max_edits"
    if isinstance(limit, Mapping):
        limit, key = limit.get(method), f"{key}.{method}"
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"config key '{key}': must be a positive integer or null, got {limit!r}")
    return limit


def run_stream(task: str, method: str, config: Mapping[str, Any], files: Mapping[str, Any], out_dir: str | Path,
               fold: str, *, path_name: str | None = None, threads: int = 1) -> dict[str, Any]:
    device = configure_torch(config, threads)
    sme = config.get("sme") or {}
    params = SMEParams.from_config(sme, task)
    max_edits = edit_limit(sme, fold, method)
    path_name = path_name or params.path
    seed = stream_seed(int(config["seed"]), task, method, fold)
    torch.manual_seed(seed)
    model, tokenizer = load_base_model(task, files["base_model"], device, config["base"][task]["model"])
    model.requires_grad_(False)
    data = load_stream_data(task, files)
    check_memory(method, task, data.memory, files["memory"])
    if config["splits"][task].get("edit_needs_rephrases", True):
        check_rephrases(data.stream, ", ".join(map(str, files["folds"])), str(files["train_data"]))
    site = ffn_site(task, model)
    ops = task_ops(task, tokenizer, model, config["base"][task]["train"])
    path = execution_path(path_name, site, ops, device, params.eval_batch_size, dropout_draws=params.dropout_draws)
    path.register_set("trainr", data.trainr)
    path.register_set("test", data.test)
    train_before, test_before = _accuracies(path)
    editor = build_editor(method, sme, task, seed)
    editor.prepare(path, data.memory, data.val)
    log.info("%s/%s/%s on the %s path: %d examples, base acc trainR %.4f test %.4f", task, method, fold,
             path_name, len(data.stream), train_before, test_before)

    out = Path(out_dir)
    resume_file = out / RESUME_FILE
    for leftover in clean_leftovers(resume_file):   # a checkpoint write killed in an earlier run of this job
        log.info("removed %s, left by a killed checkpoint write", leftover)
    fingerprint = job_fingerprint(config, files, task=task, method=method, fold=fold, path=path_name,
                                  threads=threads)
    blob = load_checkpoint(resume_file, fingerprint) if params.resume_every else None
    if blob is None:
        state = StreamState()
    else:
        state = resume_from(blob, editor, data.stream)
        log.info("resumed from %s at position %d (%d edits)", resume_file, state.position, state.n_edits)
    edited: list[Example] = edited_examples(state, data.stream)
    edited_queries: list[Any] = []   # the growing list's cached chunks (ExecutionPath.correct_growing)
    # running counts for the progress line, so that a visit does not rescan every record so far
    n_done = sum(bool(r["was_error"]) for r in state.records)
    n_success = sum(bool(r["success"]) for r in state.records if r["was_error"])

    def checkpoint() -> dict[str, Any]:
        train_after, test_after = _accuracies(path)
        acc = {"train_before": train_before, "test_before": test_before, "train_after": train_after,
               "test_after": test_after}
        return stream_metrics(state.records, path.correct_growing(edited, edited_queries), acc) | {
            "train_acc": train_after, "test_acc": test_after}

    bar = Progress(len(data.stream) - state.position, f"SME {task}/{method}/{fold}", unit="examples", logger=log)
    for index in range(state.position, len(data.stream)):
        if max_edits is not None and state.n_edits >= max_edits:
            break
        example = data.stream[index]
        was_error = not path.correct([example])[0]
        record: dict[str, Any] = {"index": index, "id": example.id, "was_error": was_error, "success": None,
                                  "gr": None, "n_neurons": 0, "steps": 0, "seconds": 0.0}
        if was_error:
            start = time.perf_counter()
            outcome = editor.edit(example, state.n_edits)
            seconds = time.perf_counter() - start
            eqs = equivalents(example, params.gr_max_rephrases, seed, params.gr_include_input)
            record.update(success=path.correct([example])[0], gr=accuracy(path.correct(eqs)) if eqs else None,
                          n_gr=len(eqs),
                          n_neurons=outcome.n_neurons, steps=outcome.steps, seconds=seconds,
                          stopped_early=outcome.info.get("stopped_early"))
            # growth along the stream (config/scale.yaml's figure): patches and memory rows after this edit,
            # and the process's peak resident memory so far
            record.update(n_patches=site.bank.n_committed, peak_rss_mb=peak_rss_mb())
            memory = getattr(editor, "memory", None)
            if hasattr(memory, "train"):
                record["memory_rows"] = int(memory.train.shape[0])
            state.seconds += seconds
            n_done += 1
            n_success += bool(record["success"])
            state.edit_ids.append(example.id)
            edited.append(example)
        state.records.append(record)
        state.position = index + 1
        bar.update(edits=state.n_edits, SR=n_success / n_done if n_done else 1.0,
                   s_per_edit=state.seconds / state.n_edits if state.n_edits else 0.0)
        if was_error and state.n_edits % params.checkpoint_every == 0:
            state.curve.append(checkpoint())
            log.info("checkpoint %s", state.curve[-1])
        if was_error and params.resume_every and state.n_edits % params.resume_every == 0:
            save_checkpoint(resume_file, fingerprint, state, editor, str(device))
    bar.close()
    if not state.curve or state.curve[-1]["n_edits"] != state.n_edits:
        state.curve.append(checkpoint())
    final = state.curve[-1]

    bank = site.bank
    summary = {
        **{k: final[k] for k in ("SR", "GR", "ER", "TrainR", "TestR", "n_edits")},
        "counts": pooled_counts(state.records),
        "n_patches": bank.n_committed, "protocol": PROTOCOL, "task": task, "method": method, "fold": fold,
        "path": path_name, "n_visited": len(state.records),
        "seconds_per_edit": state.seconds / state.n_edits if state.n_edits else None,
        "mean_steps": (sum(r["steps"] for r in state.records) / state.n_edits) if state.n_edits else None,
        "train_acc_before": train_before, "train_acc_after": final["train_acc"],
        "test_acc_before": test_before, "test_acc_after": final["test_acc"],
        "memory_added": getattr(getattr(editor, "memory", None), "n_added", 0),
        "seed": seed, "device": str(device),
        "provenance": provenance(config, device=str(device), protocol=PROTOCOL,
                                 data_files={k: files[k] for k in ("train_data", "dev_data")},
                                 models={"base": read_record(files["base_model"])}),
    }
    if method == "tpatcher":
        with atomic_path(out / "activations.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, edit_acts=_max_pre_activation(path, edited).astype(np.float32),
                         test_acts=_max_pre_activation(path, data.test[:params.n_test_shown]).astype(np.float32),
                         patch_edit=bank.owner.cpu().numpy().astype(np.int64))
        export_fold_patches(out, task, files["base_model"], path, state.records, edited,
                            data.test[:params.n_test_shown])
    write_jsonl(out / "edits.jsonl", state.records)
    write_jsonl(out / "curve.jsonl", state.curve)
    write_json(out / "summary.json", summary)
    remove_checkpoint(resume_file)   # only once every output is in place
    log.info("summary %s", summary)
    return summary
