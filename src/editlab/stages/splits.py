"""Stage 2: one task's persisted id lists (DESIGN §4), and the edit folds."""

from __future__ import annotations

from editlab.stages.job import Job


def splits(job: Job) -> None:
    from editlab.data.readers import read_task_file
    from editlab.data.splits import SplitConfig, make_splits, write_splits

    task = job.wildcards.task
    train = read_task_file(task, job.input.train_data)
    dev = read_task_file(task, job.input.dev_data)
    made = make_splits(train, dev, SplitConfig.from_config(job.params.split), seed=job.params.seed)
    write_splits(made, {name: job.output[name] for name in made.names()})


def fold(job: Job) -> None:
    from editlab.data.splits import fold_ids
    from editlab.io import read_ids, write_ids

    ids = fold_ids(read_ids(job.input.edit), job.params.n_folds, int(job.wildcards.k), seed=job.params.seed)
    write_ids(job.output[0], ids)
