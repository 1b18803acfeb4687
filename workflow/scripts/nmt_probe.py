"""Check that a task's planted behaviour is present before editing; keep the requests that show it."""

from editlab.stages import run_stage

run_stage("nmt_probe", snakemake)
