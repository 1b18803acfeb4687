"""Download one Cao et al. release file from the MEND Google Drive folder with gdown."""

from editlab.stages import run_stage

run_stage("download_cao", snakemake)
