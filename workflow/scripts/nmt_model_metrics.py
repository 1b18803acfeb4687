"""Score the unedited NMT model on the held-out test set."""

from editlab.stages import run_stage

run_stage("nmt_model_metrics", snakemake)
