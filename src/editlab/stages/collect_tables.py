"""Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols (stage `collect_tables`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    """Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols."""
    from editlab.provenance import write_table_sidecar
    from editlab.results.aggregate import combine, write_table

    write_table(combine(job.input.tables), job.output[0])
    write_table_sidecar(job.output.provenance, job.output[0], job.config)
