"""Copy the four Cao-format files from the authors' data.zip or the Cao/MEND release, verified."""

from editlab.data.ingest import CAO_FILES, IngestConfig, ingest
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    ingest(IngestConfig.from_config(snakemake.params.data), {key: snakemake.output[key] for key in CAO_FILES})
