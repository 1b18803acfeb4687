"""Download one file (checksummed, retried, resumable, atomic)."""

from editlab.data.download import DownloadConfig, download
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    download(snakemake.params.url, snakemake.output[0], snakemake.params.sha256,
             DownloadConfig.from_config(snakemake.params.download))
