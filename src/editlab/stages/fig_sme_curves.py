"""Figure: SME metrics against the number of edits for one task (stage `fig_sme_curves`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.plots.curves import plot_sme_curves
    from editlab.results.settings import ReportSettings

    plot_sme_curves(job.wildcards.task, job.params.runs, ReportSettings.from_config(job.params.report), job.output.pdf,
                    job.output.png, job.params.profile, summaries=job.input.summaries)
