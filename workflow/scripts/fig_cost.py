"""Figure: cost per edit by method and execution path."""

from editlab.stages import run_stage

run_stage("fig_cost", snakemake)
