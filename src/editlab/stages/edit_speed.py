"""Both execution paths timed side by side (benchmarks/edit_speed.py inside the DAG, report.edit_speed) (stage `edit_speed`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.io import write_json
    from editlab.layout import Layout
    from editlab.sme.speed import speed_report

    report = speed_report(job.config, Layout.from_config(job.config), **job.params.settings)
    write_json(job.output[0], report)
