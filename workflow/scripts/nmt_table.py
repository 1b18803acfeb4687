"""Tasks x methods x metrics table of the NMT edits (CSV, Markdown, LaTeX)."""

from editlab.stages import run_stage

run_stage("nmt_table", snakemake)
