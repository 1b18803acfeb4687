"""Cut the edit set into folds (seeded order) and write fold k (stage `fold`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.splits import fold_ids
    from editlab.io import read_ids, write_ids

    ids = fold_ids(read_ids(job.input.edit), job.params.n_folds, int(job.wildcards.k), seed=job.params.seed)
    write_ids(job.output[0], ids)
