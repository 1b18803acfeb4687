"""NMT results: the tasks x methods x metrics table (CSV, Markdown, LaTeX) and the metrics figure."""

from __future__ import annotations

from editlab.stages.job import Job


def nmt_table(job: Job) -> None:
    from editlab.nmt.report import aggregate
    from editlab.provenance import write_table_sidecar

    out = job.output
    aggregate(list(job.input.summaries), out.csv, out.markdown, out.latex, job.config["name"])
    write_table_sidecar(out.provenance, out.csv, job.config)


def nmt_figure(job: Job) -> None:
    from editlab.nmt.report import load_summaries, plot_metrics

    plot_metrics(load_summaries(list(job.input.summaries)), job.output.pdf, job.output.png)
