"""Fetch one hub model / tokenizer / dataset into the HF cache on the submit host (stage `prefetch_hub`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.hub import HubItem, prefetch
    from editlab.io import write_json

    write_json(job.output[0], prefetch(HubItem(**job.params.item)))
