"""Figure: SME metrics against the number of edits for one task."""

from editlab.stages import run_stage

run_stage("fig_sme_curves", snakemake)
