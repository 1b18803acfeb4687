"""Cost of one task and method: seconds, patches and steps per edit, device-hours per fold (stage `cost_sme`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.results.aggregate import cost_method, write_table
    from editlab.results.settings import ReportSettings

    settings = ReportSettings.from_config(job.params.report)
    table = cost_method(job.input.summaries, job.input.edits, job.input.benchmarks, job.wildcards.task,
                        job.wildcards.method, settings.interval_level)
    write_table(table, job.output[0])
