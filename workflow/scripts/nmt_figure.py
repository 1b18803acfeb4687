"""Figure: efficacy / generalisation / specificity per NMT task and method."""

from editlab.stages import run_stage

run_stage("nmt_figure", snakemake)
