"""Split one task's Cao-format files into the persisted id lists of DESIGN §4."""

from editlab.data.readers import read_task_file
from editlab.data.splits import SplitConfig, make_splits, write_splits
from editlab.runtime import script_logging

with script_logging(snakemake.log[0]):
    task = snakemake.wildcards.task
    train = read_task_file(task, snakemake.input.train_data)
    dev = read_task_file(task, snakemake.input.dev_data)
    splits = make_splits(train, dev, SplitConfig.from_config(snakemake.params.split), seed=snakemake.params.seed)
    write_splits(splits, {name: snakemake.output[name] for name in splits.names()})
