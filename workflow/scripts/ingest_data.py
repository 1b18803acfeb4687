"""Copy the four Cao-format files from the authors' data.zip or the Cao/MEND release, verified."""

from editlab.stages import run_stage

run_stage("ingest_cao", snakemake)
