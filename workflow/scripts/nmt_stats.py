"""Second-moment statistics C of one FFN locus, cached for every edit at that locus."""

from editlab.nmt.pipeline import compute_stats
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    compute_stats(snakemake.params.nmt, snakemake.input.model, snakemake.input.corpus, snakemake.wildcards.side,
                  int(snakemake.wildcards.layer), snakemake.output[0], device)
