"""Ingest the authors' data.zip or the Cao/MEND release files from a local path, verified.

The source is a zip archive or a directory; the four Cao-format files are found by their release
names at any depth (data.zip and the MEND release nest them differently). An explicit path per file
(`data.files`) overrides the search. Each file is checked against its configured SHA-256 (when given)
and parsed with the task readers before it is copied atomically to its workflow path.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editlab.config import check_keys, schema_keys
from editlab.data.download import sha256_of
from editlab.data.readers import read_task_file
from editlab.errors import ConfigError, DataFormatError
from editlab.io import atomic_path
from editlab.layout import CAO_FILES, cao_path  # noqa: F401  (re-exported: the release file names live in the layout)

log = logging.getLogger("editlab.ingest")

@dataclass(frozen=True)
class IngestConfig:
    path: str | None
    archive_sha256: str | None = None
    sha256: Mapping[str, str | None] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> IngestConfig:
        check_keys(data, schema_keys("data.schema.yaml"), "data")
        cao = data.get("cao") or {}
        check_keys(cao, schema_keys("data.schema.yaml", "cao"), "data.cao")
        check_keys(data.get("files") or {}, schema_keys("data.schema.yaml", "files"), "data.files")
        return cls(path=cao.get("path"), archive_sha256=cao.get("archive_sha256"),
                   sha256=dict(cao.get("sha256") or {}), files=dict(data.get("files") or {}))


def _find_in_dir(root: Path, name: str) -> Path | None:
    hits = sorted(p for p in root.rglob(name) if p.is_file() and "__MACOSX" not in p.parts)
    if len(hits) > 1:
        raise DataFormatError(root, f"{len(hits)} files named {name}: {', '.join(map(str, hits))}; set data.files")
    return hits[0] if hits else None


def _find_in_zip(archive: zipfile.ZipFile, name: str, where: Path) -> str | None:
    hits = sorted(n for n in archive.namelist()
                  if n.rsplit("/", 1)[-1] == name and not n.startswith("__MACOSX/"))
    if len(hits) > 1:
        raise DataFormatError(where, f"{len(hits)} members named {name}: {', '.join(hits)}")
    return hits[0] if hits else None


def _verify(path: Path, key: str, expected: str | None, origin: str) -> str:
    actual = sha256_of(path)
    if expected and actual.lower() != expected.lower():
        raise DataFormatError(origin, f"checksum mismatch for {key}: expected sha256 {expected}, got {actual}")
    if not expected:
        log.warning("%s: no sha256 configured (data.cao.sha256.%s); got %s", origin, key, actual)
    return actual


def ingest(config: IngestConfig, outputs: Mapping[str, str | os.PathLike[str]]) -> dict[str, str]:
    """Copy the four files to `outputs` (keyed like CAO_FILES); return their SHA-256 by key."""
    unknown = set(config.files) - set(CAO_FILES)
    if unknown:
        raise ConfigError(f"config key 'data.files': unknown file key(s) {sorted(unknown)}; "
                          f"expected {sorted(CAO_FILES)}")
    source = Path(config.path) if config.path else None
    if source is None and set(config.files) != set(CAO_FILES):
        raise ConfigError("config key 'data.cao.path': not set (and data.files does not name all four files)")
    if source is not None and not source.exists():
        raise ConfigError(f"config key 'data.cao.path': {source} does not exist; put the authors' data.zip "
                          "(OpenReview forum 4oYUGeGBPm) or the Cao/MEND release folder there")
    archive = None
    if source is not None and source.is_file():
        if config.archive_sha256:
            _verify(source, "archive", config.archive_sha256, str(source))
        if not zipfile.is_zipfile(source):
            raise DataFormatError(source, "not a zip archive or a directory")
        archive = zipfile.ZipFile(source)
    checksums = {}
    try:
        for key, (task, name) in CAO_FILES.items():
            dest = Path(outputs[key])
            with atomic_path(dest) as tmp:
                if key in config.files:
                    origin = config.files[key]
                    if not Path(origin).is_file():
                        raise ConfigError(f"config key 'data.files.{key}': {origin} is not a file")
                    shutil.copyfile(origin, tmp)
                elif archive is not None:
                    member = _find_in_zip(archive, name, source)
                    if member is None:
                        raise DataFormatError(source, f"no member named {name} in the archive")
                    origin = f"{source}!{member}"
                    with archive.open(member) as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                else:
                    found = _find_in_dir(source, name)
                    if found is None:
                        raise DataFormatError(source, f"no file named {name} below this directory")
                    origin = str(found)
                    shutil.copyfile(found, tmp)
                checksums[key] = _verify(tmp, key, config.sha256.get(key), origin)
                try:
                    n = len(read_task_file(task, tmp))  # parse every record: a broken file fails here
                except DataFormatError as exc:
                    raise DataFormatError(origin, exc.problem, line=exc.line) from None
                if n == 0:
                    raise DataFormatError(origin, "no records")
                log.info("ingested %s (%d records, sha256 %s) -> %s", origin, n, checksums[key], dest)
    finally:
        if archive is not None:
            archive.close()
    return checksums
