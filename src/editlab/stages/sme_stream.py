"""Run one SME stream (a fold, or the long stream) of one method and write its result files (stage `sme_stream`)."""

from __future__ import annotations

from pathlib import Path

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.sme.runner import run_stream

    run_stream(task=job.wildcards.task, method=job.params.method, config=job.config,
               files={key: job.input[key] for key in job.input.keys()}, out_dir=Path(job.output.summary).parent,
               fold=job.wildcards.stream, threads=job.threads)
