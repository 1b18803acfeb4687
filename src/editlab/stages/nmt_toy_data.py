"""Write the toy language pair's corpora and candidate task files (stage `nmt_toy_data`)."""

from __future__ import annotations

from editlab.layout import NMT_TASK_FILES
from editlab.stages.job import Job


def _candidates(job: Job) -> dict[str, dict[str, str]]:
    return {t: {k: job.output[f"{t}_{k}"] for k in NMT_TASK_FILES} for t in job.params.nmt["tasks"]}


def run(job: Job) -> None:
    from editlab.nmt.pipeline import make_toy_data

    out = job.output
    make_toy_data(job.params.nmt, job.params.seed, out.train, out.test, out.lexicon, _candidates(job))
