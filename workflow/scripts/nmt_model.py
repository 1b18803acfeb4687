"""Train the tiny toy Marian model (mini/ci) or download the hub checkpoint (paper)."""

from editlab.nmt.pipeline import make_model
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    make_model(snakemake.params.nmt, snakemake.params.seed, snakemake.input.get("train"),
               snakemake.input.get("lexicon"), snakemake.output.model, device)
