"""Tasks x methods x metrics table of the NMT edits (CSV, Markdown, LaTeX)."""

from editlab.nmt.report import aggregate
from editlab.provenance import write_table_sidecar
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    out = snakemake.output
    aggregate(list(snakemake.input.summaries), out.csv, out.markdown, out.latex, snakemake.config["name"])
    write_table_sidecar(out.provenance, out.csv, snakemake.config)
