"""Copy the four Cao-format files from the authors' data.zip, the Cao/MEND release folder or the MEND
release as downloaded by `download_cao`, verified (stage `ingest_cao`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from editlab.layout import CAO_FILES, Layout
from editlab.stages.job import Job


def cao_downloads(data: Mapping[str, Any]) -> list[str]:
    """The release files (CAO_FILES keys) to download from the MEND Drive folder: all that data.files does
    not name, when data.cao.path is unset; none when it names a local zip or folder."""
    if (data.get("cao") or {}).get("path"):
        return []
    named = set(data.get("files") or {})
    return [key for key in CAO_FILES if key not in named]


def ingest_files(data: Mapping[str, Any], layout: Layout) -> dict[str, str]:
    """data.files, completed by the downloaded release files (cao_downloads)."""
    downloaded = {key: layout.cao_download(CAO_FILES[key][1]) for key in cao_downloads(data)}
    return {**downloaded, **{key: str(p) for key, p in (data.get("files") or {}).items()}}


def ingest_sources(data: Mapping[str, Any], layout: Layout) -> dict[str, str]:
    """The local files the ingest reads, as rule inputs: `archive` (data.cao.path, a zip or a release folder)
    and `file_<key>` for each explicit or downloaded file. A missing one then fails the dry run (or is made
    by download_cao), a replaced one reruns it."""
    sources = {}
    path = (data.get("cao") or {}).get("path")
    if path:
        sources["archive"] = str(path)
    sources.update({f"file_{key}": p for key, p in sorted(ingest_files(data, layout).items())})
    return sources


def run(job: Job) -> None:
    from dataclasses import replace

    from editlab.data.ingest import IngestConfig, ingest

    config = replace(IngestConfig.from_config(job.params.data), files=dict(job.params.files))
    ingest(config, {key: job.output[key] for key in CAO_FILES})
