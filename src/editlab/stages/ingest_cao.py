"""Copy the four Cao-format files from the authors' data.zip or the Cao/MEND release, verified (stage `ingest_cao`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from editlab.stages.job import Job


def ingest_sources(data: Mapping[str, Any]) -> dict[str, str]:
    """The local files the ingest reads, as rule inputs: `archive` (data.cao.path, a zip or a release folder)
    and `file_<key>` for each data.files entry. A missing one then fails the dry run, a replaced one reruns it."""
    sources = {}
    path = (data.get("cao") or {}).get("path")
    if path:
        sources["archive"] = str(path)
    sources.update({f"file_{key}": str(p) for key, p in sorted((data.get("files") or {}).items())})
    return sources


def run(job: Job) -> None:
    from editlab.data.ingest import CAO_FILES, IngestConfig, ingest

    ingest(IngestConfig.from_config(job.params.data), {key: job.output[key] for key in CAO_FILES})
