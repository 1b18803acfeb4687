"""Paper profile: real parallel sentences, and task candidates mined from the hub model's own mistakes."""

from editlab.stages import run_stage

run_stage("nmt_hub_data", snakemake)
