"""Cost of one task and method: seconds, patches and steps per edit, device-hours per fold."""

from editlab.stages import run_stage

run_stage("cost_sme", snakemake)
