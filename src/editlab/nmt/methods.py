"""The NMT editing methods as registry factories (editlab.editors.REGISTRY["nmt"]): each turns one job's
context into the apply / undo / active / after-stream hooks that `nmt.experiment.run_task` drives."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from editlab.io import write_jsonl
from editlab.nmt.edit_inputs import build_edit_ids
from editlab.nmt.experiment import ApplyFn, RevertFn, Snapshot, StreamFn
from editlab.nmt.finetune import apply_finetune
from editlab.nmt.hparams import ft_hparams, rome_hparams, tpatcher_hparams
from editlab.nmt.tasks import EditRequest, Task, read_parallel
from editlab.nmt.tpatcher import NmtTPatcher
from editlab.patchfile import export_rank_one
from editlab.rome.batches import Seq2SeqIds
from editlab.rome.editor import EditResult, apply_rome, revert
from editlab.rome.stats import load_second_moment

log = logging.getLogger("editlab.nmt")


@dataclass(frozen=True)
class NmtContext:
    """What an NMT method may use in one job: the `nmt` config section, the loaded model and task, the
    statistics corpus and directory, and where the rank-one stream's patch file goes (None: not written)."""

    nmt: Mapping[str, Any]
    seed: int
    method: str
    model: torch.nn.Module
    tok: Any
    data: Task
    model_dir: str
    corpus: str
    stats_dir: str
    patch_dir: str | None = None
    device: str = "cpu"


@dataclass(frozen=True)
class NmtMethod:
    apply: ApplyFn
    undo: RevertFn = revert
    active: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    after_stream: StreamFn | None = None


def rank_one(ctx: NmtContext) -> NmtMethod:
    """rome / r-rome: the closed-form update at the task's locus, keyed as the method name says."""
    hp = rome_hparams(ctx.nmt, ctx.data.name, ctx.method)
    stats = load_second_moment(os.path.join(ctx.stats_dir, f"{hp.side}_layer{hp.layer}.safetensors"), hp.side, hp.layer)
    # Random-prefix contexts draw their words from the statistics corpus' source side.
    words = sorted({w for s, _ in read_parallel(ctx.corpus) for w in s.split()})

    def apply(m: torch.nn.Module, request: EditRequest) -> EditResult:
        ids = build_edit_ids(m, ctx.tok, request, hp, words, ctx.seed, ctx.device)
        return apply_rome(m, ids, hp, stats, ctx.tok.specials, ctx.device)

    after_stream = None
    if ctx.patch_dir is not None:
        patch_dir = ctx.patch_dir

        def after_stream(m: torch.nn.Module, results: list[EditResult], final: Snapshot) -> None:
            export_stream_patch(patch_dir, ctx.model_dir, ctx.data, ctx.method, results, final)
    return NmtMethod(apply, after_stream=after_stream)


def fine_tune(ctx: NmtContext) -> NmtMethod:
    """ft: Adam on the same projection the rank-one editor changes."""
    fhp = ft_hparams(ctx.nmt, ctx.data.name)
    tok = ctx.tok

    def apply(m: torch.nn.Module, request: EditRequest) -> EditResult:
        return apply_finetune(m, Seq2SeqIds(tok.encode_source(request.source), tok.encode_target(request.target)),
                              fhp, tok.specials, ctx.device)
    return NmtMethod(apply)


def t_patcher(ctx: NmtContext) -> NmtMethod:
    """tpatcher: neurons added to the decoder's last FFN (nmt.locus does not apply)."""
    patcher = NmtTPatcher(ctx.model, ctx.tok, tpatcher_hparams(ctx.nmt), read_parallel(ctx.corpus),
                          [r.behaviour for r in ctx.data.requests], ctx.seed, ctx.device)
    log.info("T-Patcher memory: %d training pairs, %d decoder queries", patcher.n_memory_pairs,
             patcher.editor.memory.train.shape[0])
    return NmtMethod(patcher.apply, patcher.undo, patcher.active)


def export_stream_patch(patch_dir: str, model_dir: str, data: Any, method: str, results: list[EditResult],
                        final: Snapshot) -> None:
    """The sequential stream as a rank-one patch file, plus the edited model's outputs on the requests and
    the specificity inputs (`final_predictions.jsonl`: what the applied patch must reproduce)."""
    export_rank_one(patch_dir, model_dir, results, [r.id for r in data.requests],
                    extra={"task": data.name, "method": method, "protocol": "sequential"})
    pairs = [(r.id, r.source) for r in data.requests] + [(p.id, p.source) for p in data.specificity]
    outputs = final.requests + final.specificity
    write_jsonl(os.path.join(patch_dir, "final_predictions.jsonl"),
                [{"id": i, "source": s, "output": o} for (i, s), o in zip(pairs, outputs, strict=True)])
