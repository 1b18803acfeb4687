"""Figure: thousands of edits in one stream — metrics against edits, seconds per edit and peak memory against
patches (stage `fig_scale_stream`, config/scale.yaml)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.plots.scale_stream import plot_scale_stream
    from editlab.results.settings import ReportSettings

    plot_scale_stream(job.params.runs, job.params.methods, ReportSettings.from_config(job.params.report),
                      job.output.pdf, job.output.png, job.params.profile)
