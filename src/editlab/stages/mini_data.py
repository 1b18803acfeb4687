"""Write the synthetic mini world in the Cao FEVER / zsRE formats (stage `mini_data`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.mini_world import WorldConfig, write_mini_dataset

    out = job.output
    write_mini_dataset(WorldConfig.from_config(job.params.mini, seed=job.params.seed), fever_train=out.fever_train,
                       fever_dev=out.fever_dev, zsre_train=out.zsre_train, zsre_dev=out.zsre_dev, world=out.world)
