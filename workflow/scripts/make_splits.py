"""Split one task's Cao-format files into the persisted id lists of DESIGN §4."""

from editlab.stages import run_stage

run_stage("splits", snakemake)
