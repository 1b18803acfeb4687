"""Write the toy language pair's corpora and candidate task files."""

from editlab.stages import run_stage

run_stage("nmt_toy_data", snakemake)
