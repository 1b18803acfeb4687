"""Paper profile: real parallel sentences, and task candidates mined from the hub model's own mistakes (stage `nmt_hub_data`)."""

from __future__ import annotations

from editlab.layout import NMT_TASK_FILES
from editlab.stages.job import Job


def _candidates(job: Job) -> dict[str, dict[str, str]]:
    return {t: {k: job.output[f"{t}_{k}"] for k in NMT_TASK_FILES} for t in job.params.nmt["tasks"]}


def run(job: Job) -> None:
    from editlab.nmt.hub_data import make_hub_data

    out = job.output
    make_hub_data(job.params.nmt, job.params.seed, job.input.model, out.train, out.test, out.lexicon, _candidates(job),
                  job.device)
