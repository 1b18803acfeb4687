"""Stage 1 (data.source = kilt): one KILT file, checksummed, retried, resumable, atomic."""

from __future__ import annotations

from editlab.stages.job import Job


def download_file(job: Job) -> None:
    from editlab.data.download import DownloadConfig, download

    download(job.params.url, job.output[0], job.params.sha256, DownloadConfig.from_config(job.params.download))
