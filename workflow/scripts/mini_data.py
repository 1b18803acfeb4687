"""Write the synthetic mini world in the Cao FEVER / zsRE formats."""

from editlab.data.mini_world import WorldConfig, write_mini_dataset
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    write_mini_dataset(
        WorldConfig.from_config(snakemake.params.mini, seed=snakemake.params.seed),
        fever_train=snakemake.output.fever_train,
        fever_dev=snakemake.output.fever_dev,
        zsre_train=snakemake.output.zsre_train,
        zsre_dev=snakemake.output.zsre_dev,
        world=snakemake.output.world,
    )
