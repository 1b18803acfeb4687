"""Provenance of a result file: what made the numbers (config, seed, code, packages, device, protocol,
the SHA-256 of the data files read and the hub commit of the models loaded).

Every result JSON the workflow writes carries `provenance(...)` under the key `provenance`; tables get a
sidecar JSON with the same record. Nothing here may fail a job: what cannot be found is "unknown".
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from editlab.config import config_hash

PACKAGES = ("torch", "transformers", "numpy", "editlab", "huggingface_hub", "datasets")
# data.source kilt: what the files are, next to every result built from them (docs/scaling.md).
KILT_NOTE = ("data.source kilt: KILT originals with back-translated rephrases, not the Cao et al. equivalence "
             "sets; the KILT zsRE dev file has 3,724 records where the reference test set has 27,644 questions. "
             "The reference data: the authors' OpenReview supplementary (forum 4oYUGeGBPm, data.zip) and the "
             "MEND release (data.source cao)")
CHECKOUT = Path(__file__).resolve().parents[2]   # the checkout (or workflow copy) this library runs from


def git_commit(directory: str | os.PathLike[str] = CHECKOUT) -> str:
    """HEAD of the checkout, with '-dirty' when tracked files differ; 'unknown' outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != Path(directory).resolve():
            return "unknown"   # a copy of the workflow inside some other repository
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "") if commit else "unknown"


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    if versions.get("editlab") == "unknown":   # run from a checkout that is not pip-installed
        from editlab import __version__
        versions["editlab"] = __version__
    return versions


def device_name(device: str) -> str:
    """The accelerator's model for CUDA devices, the CPU's otherwise (for reading timings)."""
    if str(device).startswith("cuda"):
        try:
            import torch

            return torch.cuda.get_device_name(torch.device(device))
        except Exception:   # noqa: BLE001 -- provenance must never fail a job
            return "unknown"
    return platform.processor() or platform.machine() or "unknown"


def file_sha256(path: str | os.PathLike[str]) -> str:
    try:
        from editlab.data.download import sha256_of

        return sha256_of(path)
    except OSError:
        return "unknown"


def data_record(config: Mapping[str, Any], files: Mapping[str, str | os.PathLike[str]] | None) -> dict[str, Any]:
    """The data a result was computed from: the source, the SHA-256 of each file read, the KILT note."""
    source = (config.get("data") or {}).get("source", "unknown")
    record: dict[str, Any] = {"source": source}
    if files:
        record["sha256"] = {name: file_sha256(path) for name, path in sorted(files.items())}
    if source == "kilt":
        record["note"] = KILT_NOTE
    return record


def provenance(config: Mapping[str, Any], *, device: str = "cpu", protocol: str | None = None,
               data_files: Mapping[str, str | os.PathLike[str]] | None = None,
               models: Mapping[str, Mapping[str, Any] | None] | None = None) -> dict[str, Any]:
    """The provenance record of one result: config hash, the config's seed (derived per-job seeds are in
    the result itself), git commit, package versions, device, the evaluation protocol if any, the data
    (`data_files`: name -> path, hashed here) and the hub models used (`models`: role -> the record of
    editlab.hub, None for a model built from scratch)."""
    record: dict[str, Any] = {
        "config_hash": config_hash(config),
        "profile": config.get("name", "unknown"),
        "seed": config.get("seed"),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "device": str(device),
        "device_name": device_name(str(device)),
    }
    if protocol is not None:
        record["protocol"] = protocol
    if data_files is not None or "data" in config:
        record["data"] = data_record(config, data_files)
    if models:
        record["models"] = {role: dict(rec) if rec else {"source": "scratch"} for role, rec in models.items()}
    return record


def write_table_sidecar(sidecar: str | os.PathLike[str], table: str | os.PathLike[str],
                        config: Mapping[str, Any]) -> None:
    """`<table>.provenance.json` next to a CSV table: its provenance, with the protocol(s) of its rows."""
    import csv

    from editlab.io import write_json

    with open(table, encoding="utf-8", newline="") as fh:
        protocols = sorted({row["protocol"] for row in csv.DictReader(fh) if row.get("protocol")})
    write_json(sidecar, {"table": Path(table).name,
                         "provenance": provenance(config, protocol=";".join(protocols) or None)})
