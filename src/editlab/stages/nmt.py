"""NMT rank-one editing (DESIGN §8): the model, its test metrics, behaviour probes, statistics and edits."""

from __future__ import annotations

import os

from editlab.layout import NMT_TASK_FILES
from editlab.stages.job import Job


def nmt_model(job: Job) -> None:
    """Train the tiny toy Marian model (mini/ci) or download the hub checkpoint (paper)."""
    from editlab.nmt.pipeline import make_model

    make_model(job.params.nmt, job.params.seed, job.input.get("train"), job.input.get("lexicon"), job.output.model,
               job.device)


def nmt_model_metrics(job: Job) -> None:
    from editlab.nmt.pipeline import score_model

    score_model(job.params.nmt, job.input.model, job.input.test, job.output[0], job.device)


def nmt_probe(job: Job) -> None:
    """Check that a task's planted behaviour is present before editing; keep the requests that show it."""
    from editlab.nmt.pipeline import probe

    candidates = dict(zip(NMT_TASK_FILES, job.input.candidates))
    probe(job.params.nmt, job.wildcards.task, job.input.model, candidates, {k: job.output[k] for k in NMT_TASK_FILES},
          job.output.presence, job.device)


def nmt_stats(job: Job) -> None:
    """Second-moment statistics C of one FFN locus, cached for every edit at that locus."""
    from editlab.nmt.pipeline import compute_stats

    compute_stats(job.params.nmt, job.input.model, job.input.corpus, job.wildcards.side, int(job.wildcards.layer),
                  job.output[0], job.device)


def nmt_edit(job: Job) -> None:
    """One editing method on one NMT task: single edits, the sequential stream and (rank-one) the patch file."""
    from editlab.nmt.pipeline import run_method

    inp, out = job.input, job.output
    stats_dir = os.path.dirname(inp.stats) if "stats" in inp.keys() else ""
    patch_dir = os.path.dirname(out.patch_meta) if "patch_meta" in out.keys() else None
    run_method(job.params.nmt, job.params.seed, job.wildcards.task, job.wildcards.method, inp.model,
               {k: inp[k] for k in NMT_TASK_FILES}, inp.test, inp.corpus, stats_dir, out.summary, out.sequential,
               out.edits, job.device, config=job.config, patch_dir=patch_dir)
