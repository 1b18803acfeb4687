"""Download one Cao et al. release file from the MEND Google Drive folder with gdown (stage `download_cao`)."""

from __future__ import annotations

from editlab.stages.job import Job


def run(job: Job) -> None:
    from editlab.data.gdrive import download_release_file
    from editlab.io import write_json

    record = download_release_file(job.params.key, job.output.file, job.params.data)
    write_json(job.output.source, record)   # which Drive id and bytes were used, next to the file
