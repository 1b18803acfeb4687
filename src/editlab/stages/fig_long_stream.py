"""Figure: retention along one long stream of all edits (T-Patcher against FT) (stage `fig_long_stream`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.plots.long_stream import plot_long_stream
    from editlab.results.settings import ReportSettings

    plot_long_stream(job.params.runs, job.params.methods, ReportSettings.from_config(job.params.report), job.output.pdf,
                     job.output.png, job.params.profile)
