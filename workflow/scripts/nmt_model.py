"""Train the tiny toy Marian model (mini/ci) or download the hub checkpoint (paper)."""

from editlab.stages import run_stage

run_stage("nmt_model", snakemake)
