"""Figure: thousands of edits in one stream — metrics against edits, cost against patches."""

from editlab.stages import run_stage

run_stage("fig_scale_stream", snakemake)
