"""Run one SME stream (a fold, or the long stream) of one method and write its result files."""

from editlab.stages import run_stage

run_stage("sme_stream", snakemake)
