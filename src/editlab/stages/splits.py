"""Split one task's Cao-format files into the persisted id lists of DESIGN §4 (stage `splits`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.readers import read_task_file
    from editlab.data.splits import SplitConfig, make_splits, write_splits

    task = job.wildcards.task
    train = read_task_file(task, job.input.train_data)
    dev = read_task_file(task, job.input.dev_data)
    made = make_splits(train, dev, SplitConfig.from_config(job.params.split), seed=job.params.seed)
    write_splits(made, {name: job.output[name] for name in made.names()})
