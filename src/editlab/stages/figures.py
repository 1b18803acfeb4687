"""Stage 6: the paper figures, one stage per figure (DESIGN §10)."""

from __future__ import annotations

from editlab.stages.job import Job


def fig_sme_curves(job: Job) -> None:
    from editlab.plots.curves import plot_sme_curves
    from editlab.results.settings import ReportSettings

    plot_sme_curves(job.wildcards.task, job.params.runs, ReportSettings.from_config(job.params.report), job.output.pdf,
                    job.output.png, job.params.profile, summaries=job.input.summaries)


def fig_patch_activations(job: Job) -> None:
    from editlab.plots.activations import plot_patch_activations
    from editlab.results.settings import ReportSettings

    plot_patch_activations(job.wildcards.task, job.input.acts, job.params.fold, ReportSettings.from_config(job.params.report),
                           job.output.pdf, job.output.png, job.params.profile)


def fig_long_stream(job: Job) -> None:
    from editlab.plots.long_stream import plot_long_stream
    from editlab.results.settings import ReportSettings

    plot_long_stream(job.params.runs, job.params.methods, ReportSettings.from_config(job.params.report), job.output.pdf,
                     job.output.png, job.params.profile)


def fig_cost(job: Job) -> None:
    from editlab.plots.cost import plot_cost
    from editlab.results.settings import ReportSettings

    plot_cost(job.params.runs, ReportSettings.from_config(job.params.report), job.output.pdf, job.output.png,
              job.params.profile, edit_speed=job.input.edit_speed[0] if job.input.edit_speed else None)
