"""Provenance of a result file: what made the numbers (config, seed, code, packages, device, protocol).

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

PACKAGES = ("torch", "transformers", "numpy", "editlab")
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


def provenance(config: Mapping[str, Any], *, device: str = "cpu", protocol: str | None = None) -> dict[str, Any]:
    """The provenance record of one result: config hash, the config's seed (derived per-job seeds are in
    the result itself), git commit, package versions, device, and the evaluation protocol if any."""
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
