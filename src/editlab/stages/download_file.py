"""Download one file (checksummed, retried, resumable, atomic) (stage `download_file`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.download import DownloadConfig, download

    download(job.params.url, job.output[0], job.params.sha256, DownloadConfig.from_config(job.params.download))
