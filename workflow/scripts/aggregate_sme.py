"""Mean and interval across folds of one task and method's SME summaries."""

from editlab.stages import run_stage

run_stage("aggregate_sme", snakemake)
