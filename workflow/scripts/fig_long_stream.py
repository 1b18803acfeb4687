"""Figure: retention along one long stream of all edits (T-Patcher against FT)."""

from editlab.stages import run_stage

run_stage("fig_long_stream", snakemake)
