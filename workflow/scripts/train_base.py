"""Train (mini) or fine-tune (paper) one task's base model; write the model directory and metrics."""

from editlab.stages import run_stage

run_stage("base_model", snakemake)
