"""Check that a task's planted behaviour is present before editing; keep the requests that show it."""

from editlab.nmt.pipeline import probe
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    kinds = ("requests", "generalization", "specificity")
    candidates = dict(zip(kinds, snakemake.input.candidates))
    probe(snakemake.params.nmt, snakemake.wildcards.task, snakemake.input.model, candidates,
          {k: snakemake.output[k] for k in kinds}, snakemake.output.presence, device)
