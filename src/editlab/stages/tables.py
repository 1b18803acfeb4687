"""Stage 5: across-fold aggregation per (task, method), cost per edit, and the collected tables."""

from __future__ import annotations

from editlab.stages.job import Job


def aggregate_sme(job: Job) -> None:
    from editlab.results.aggregate import aggregate_method, write_table
    from editlab.results.settings import ReportSettings

    settings = ReportSettings.from_config(job.params.report)
    table = aggregate_method(job.input.summaries, job.wildcards.task, job.wildcards.method, settings.interval_level)
    write_table(table, job.output[0])


def cost_sme(job: Job) -> None:
    from editlab.results.aggregate import cost_method, write_table
    from editlab.results.settings import ReportSettings

    settings = ReportSettings.from_config(job.params.report)
    table = cost_method(job.input.summaries, job.input.edits, job.input.benchmarks, job.wildcards.task,
                        job.wildcards.method, settings.interval_level)
    write_table(table, job.output[0])


def collect_tables(job: Job) -> None:
    """Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols."""
    from editlab.provenance import write_table_sidecar
    from editlab.results.aggregate import combine, write_table

    write_table(combine(job.input.tables), job.output[0])
    write_table_sidecar(job.output.provenance, job.output[0], job.config)
