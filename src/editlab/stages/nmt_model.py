"""Train the tiny toy Marian model (mini/ci) or download the hub checkpoint (paper) (stage `nmt_model`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    """Train the tiny toy Marian model (mini/ci) or download the hub checkpoint (paper)."""
    from editlab.nmt.pipeline import make_model

    make_model(job.params.nmt, job.params.seed, job.input.get("train"), job.input.get("lexicon"), job.output.model,
               job.device)
