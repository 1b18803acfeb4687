"""Markdown, LaTeX and HTML renderings of an aggregated table (main table or cost table) (stage `render_table`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.results.aggregate import read_table
    from editlab.results.tables import cost_table, main_table, write_rendered

    render = {"main": main_table, "cost": cost_table}[job.params.kind]
    table = render(read_table(job.input.table), job.params.methods, job.params.tasks, job.params.profile)
    write_rendered(table, job.output.md, job.output.tex, job.output.html)
