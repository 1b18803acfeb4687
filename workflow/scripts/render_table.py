"""Markdown, LaTeX and HTML renderings of an aggregated table (main table or cost table)."""

from editlab.stages import run_stage

run_stage("render_table", snakemake)
