"""Figure: T-Patcher patch activation heat map for one task (stage `fig_patch_activations`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.plots.activations import plot_patch_activations
    from editlab.results.settings import ReportSettings

    plot_patch_activations(job.wildcards.task, job.input.acts, job.params.fold, ReportSettings.from_config(job.params.report),
                           job.output.pdf, job.output.png, job.params.profile)
