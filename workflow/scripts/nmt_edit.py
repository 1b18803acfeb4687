"""Run one editing method on one NMT task (single edits and the sequential stream; rank-one patch file)."""

from editlab.stages import run_stage

run_stage("nmt_edit", snakemake)
