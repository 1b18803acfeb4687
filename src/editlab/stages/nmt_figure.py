"""Figure: efficacy / generalisation / specificity per NMT task and method (stage `nmt_figure`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.nmt.report import load_summaries, plot_metrics

    plot_metrics(load_summaries(list(job.input.summaries)), job.output.pdf, job.output.png)
