"""Figure: T-Patcher patch activation heat map for one task."""

from editlab.stages import run_stage

run_stage("fig_patch_activations", snakemake)
