"""Run one editing method on one NMT task (single edits and the sequential stream; rank-one patch file) (stage `nmt_edit`)."""

from __future__ import annotations

import os

from editlab.layout import NMT_TASK_FILES
from editlab.stages.job import Job


def run(job: Job) -> None:
    """One editing method on one NMT task: single edits, the sequential stream and (rank-one) the patch file."""
    from editlab.nmt.pipeline import run_method

    inp, out = job.input, job.output
    stats_dir = os.path.dirname(inp.stats) if "stats" in inp.keys() else ""
    patch_dir = os.path.dirname(out.patch_meta) if "patch_meta" in out.keys() else None
    run_method(job.params.nmt, job.params.seed, job.wildcards.task, job.wildcards.method, inp.model,
               {k: inp[k] for k in NMT_TASK_FILES}, inp.test, inp.corpus, stats_dir, out.summary, out.sequential,
               out.edits, job.device, config=job.config, patch_dir=patch_dir)
