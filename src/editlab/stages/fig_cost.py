"""Figure: cost per edit by method and execution path (stage `fig_cost`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.plots.cost import plot_cost
    from editlab.results.settings import ReportSettings

    plot_cost(job.params.runs, ReportSettings.from_config(job.params.report), job.output.pdf, job.output.png,
              job.params.profile, edit_speed=job.input.edit_speed[0] if job.input.edit_speed else None)
