"""Score the unedited NMT model on the held-out test set (stage `nmt_model_metrics`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.nmt.pipeline import score_model

    score_model(job.params.nmt, job.input.model, job.input.test, job.output[0], job.device)
