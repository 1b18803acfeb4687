"""Write the toy language pair's corpora and candidate task files."""

from editlab.nmt.pipeline import make_toy_data
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    nmt = snakemake.params.nmt
    out = snakemake.output
    make_toy_data(nmt, snakemake.params.seed, out.train, out.test, out.lexicon,
                  {t: {k: out[f"{t}_{k}"] for k in ("requests", "generalization", "specificity")} for t in nmt["tasks"]})
