"""Paper profile: real parallel sentences, and task candidates mined from the hub model's own mistakes."""

from editlab.nmt.hub_data import make_hub_data
from editlab.runtime import configure_torch, script_logging

with script_logging(snakemake.log[0]):
    device = configure_torch(snakemake.config, snakemake.threads)
    nmt = snakemake.params.nmt
    out = snakemake.output
    make_hub_data(nmt, snakemake.params.seed, snakemake.input.model, out.train, out.test, out.lexicon,
                  {t: {k: out[f"{t}_{k}"] for k in ("requests", "generalization", "specificity")} for t in nmt["tasks"]},
                  device)
