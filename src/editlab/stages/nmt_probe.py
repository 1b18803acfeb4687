"""Check that a task's planted behaviour is present before editing; keep the requests that show it (stage `nmt_probe`)."""

from __future__ import annotations

from editlab.layout import NMT_TASK_FILES
from editlab.stages.job import Job


def run(job: Job) -> None:
    """Check that a task's planted behaviour is present before editing; keep the requests that show it."""
    from editlab.nmt.pipeline import probe

    candidates = dict(zip(NMT_TASK_FILES, job.input.candidates))
    probe(job.params.nmt, job.wildcards.task, job.input.model, candidates, {k: job.output[k] for k in NMT_TASK_FILES},
          job.output.presence, job.device)
