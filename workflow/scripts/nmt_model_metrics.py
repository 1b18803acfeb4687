"""Score the unedited NMT model on the held-out test set."""

from editlab.nmt.pipeline import score_model
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    score_model(snakemake.params.nmt, snakemake.input.model, snakemake.input.test, snakemake.output[0], device)
