"""Download one file (checksummed, retried, resumable, atomic)."""

from editlab.stages import run_stage

run_stage("download_file", snakemake)
