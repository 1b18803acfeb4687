"""Concatenate per-(task, method) tables into one, refusing mixed evaluation protocols."""

from editlab.stages import run_stage

run_stage("collect_tables", snakemake)
