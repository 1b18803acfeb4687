"""Mean and interval across folds of one task and method's SME summaries (stage `aggregate_sme`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.results.aggregate import aggregate_method, write_table
    from editlab.results.settings import ReportSettings

    settings = ReportSettings.from_config(job.params.report)
    table = aggregate_method(job.input.summaries, job.wildcards.task, job.wildcards.method, settings.interval_level)
    write_table(table, job.output[0])
