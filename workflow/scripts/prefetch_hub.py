"""Fetch one hub model / tokenizer / dataset into the HF cache on the submit host."""

from editlab.stages import run_stage

run_stage("prefetch_hub", snakemake)
