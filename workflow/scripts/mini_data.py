"""Write the synthetic mini world in the Cao FEVER / zsRE formats."""

from editlab.stages import run_stage

run_stage("mini_data", snakemake)
