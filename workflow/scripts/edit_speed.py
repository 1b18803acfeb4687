"""Both execution paths timed side by side (benchmarks/edit_speed.py inside the DAG, report.edit_speed)."""

from editlab.stages import run_stage

run_stage("edit_speed", snakemake)
