"""Markdown, LaTeX and HTML renderings of an aggregated table (main table or cost table)."""

from editlab.results.aggregate import read_table
from editlab.results.tables import cost_table, main_table, write_rendered
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    render = {"main": main_table, "cost": cost_table}[snakemake.params.kind]
    table = render(read_table(snakemake.input.table), snakemake.params.methods, snakemake.params.tasks,
                   snakemake.params.profile)
    write_rendered(table, snakemake.output.md, snakemake.output.tex, snakemake.output.html)
