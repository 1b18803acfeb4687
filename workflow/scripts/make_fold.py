"""Cut the edit set into folds (seeded order) and write fold k."""

from editlab.data.splits import fold_ids
from editlab.io import read_ids, write_ids
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    ids = fold_ids(read_ids(snakemake.input.edit), snakemake.params.n_folds, int(snakemake.wildcards.k),
                   seed=snakemake.params.seed)
    write_ids(snakemake.output[0], ids)
