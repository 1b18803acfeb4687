"""Second-moment statistics C of one FFN locus, cached for every edit at that locus."""

from editlab.stages import run_stage

run_stage("nmt_stats", snakemake)
