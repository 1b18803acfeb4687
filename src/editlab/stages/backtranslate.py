"""Rebuild Cao-style `rephrases` for one KILT file by en->de->en back-translation (stage `backtranslate`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.backtranslate import BacktranslateConfig, add_rephrases

    add_rephrases(job.input.kilt, job.output[0], BacktranslateConfig.from_config(job.params.backtranslate), job.device)
