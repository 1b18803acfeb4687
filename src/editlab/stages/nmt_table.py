"""Tasks x methods x metrics table of the NMT edits (CSV, Markdown, LaTeX) (stage `nmt_table`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.nmt.report import aggregate
    from editlab.provenance import write_table_sidecar

    out = job.output
    aggregate(list(job.input.summaries), out.csv, out.markdown, out.latex, job.config["name"])
    write_table_sidecar(out.provenance, out.csv, job.config)
