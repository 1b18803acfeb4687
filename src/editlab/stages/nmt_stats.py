"""Second-moment statistics C of one FFN locus, cached for every edit at that locus (stage `nmt_stats`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    """Second-moment statistics C of one FFN locus, cached for every edit at that locus."""
    from editlab.nmt.pipeline import compute_stats

    compute_stats(job.params.nmt, job.input.model, job.input.corpus, job.wildcards.side, int(job.wildcards.layer),
                  job.output[0], job.device)
