"""Hub models, tokenizers and datasets that a profile's jobs load (docs/scaling.md, "SLURM-safe downloads").

editlab.hub_items names them; the local rule `prefetch_hub` fetches each one into the Hugging Face cache
on the submit host (`prefetch`) and writes a marker with the revision asked for and the commit resolved;
the GPU jobs that load them depend on the marker and run with the hub offline (editlab.runtime.hub_offline,
set by the job wrapper), so compute nodes without internet read the cache. A local directory in place of
a hub id (tests, air-gapped sites) is recorded by path and content hash, nothing is fetched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from editlab.errors import EditlabError

log = logging.getLogger("editlab.hub")

# Written into a model directory saved from a hub checkpoint: which checkpoint, revision and commit it is.
HUB_RECORD = "editlab_hub.json"
# Files a transformers model + tokenizer load; TF / Flax / ONNX / Core ML weights are left on the hub.
MODEL_PATTERNS = ("*.json", "*.txt", "*.model", "*.spm", "*.safetensors", "*.bin", "*.tiktoken", "*.py")


@dataclass(frozen=True)
class HubItem:
    """One thing a job loads from the hub: `repo_type` model (weights + tokenizer) or dataset."""

    role: str
    repo_id: str
    revision: str | None = None
    repo_type: str = "model"
    config_name: str | None = None


def is_local(repo_id: str) -> bool:
    return Path(repo_id).is_dir()


def directory_sha256(path: str | os.PathLike[str]) -> str:
    """One digest of a directory's files: their relative paths and contents, in sorted order."""
    from editlab.data.download import sha256_of

    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(root).as_posix()}\0{sha256_of(file)}\n".encode())
    return digest.hexdigest()


def prefetch(item: HubItem) -> dict[str, Any]:
    """Fetch `item` into the HF cache (submit host); return its record (what the marker holds)."""
    record: dict[str, Any] = asdict(item)
    if is_local(item.repo_id):
        record.update(local=True, path=str(Path(item.repo_id).resolve()), sha256=directory_sha256(item.repo_id),
                      commit=None)
        log.info("%s: local directory %s (sha256 %s), nothing to fetch", item.role, record["path"], record["sha256"])
        return record
    try:
        if item.repo_type == "model":
            from huggingface_hub import snapshot_download

            folder = snapshot_download(item.repo_id, revision=item.revision, allow_patterns=list(MODEL_PATTERNS))
            commit = Path(folder).name   # the cache keeps each snapshot under its commit hash
        else:
            from datasets import load_dataset
            from huggingface_hub import HfApi

            # load_dataset on the submit host downloads and prepares the cache the offline GPU job reads
            load_dataset(item.repo_id, item.config_name, revision=item.revision)
            commit = HfApi().dataset_info(item.repo_id, revision=item.revision).sha
            folder = None
    except Exception as exc:  # noqa: BLE001 - hub and network errors come in many types; one line for the user
        text = str(exc).strip().splitlines()
        raise EditlabError(f"prefetch of {item.repo_type} {item.repo_id!r} ({item.role}) failed: "
                           f"{text[0] if text else type(exc).__name__}") from None
    record.update(local=False, path=folder, commit=commit)
    log.info("%s: %s %s at commit %s (revision asked: %s)", item.role, item.repo_type, item.repo_id, commit,
             item.revision or "latest")
    return record


def model_record(model: Any, repo_id: str, revision: str | None) -> dict[str, Any]:
    """Which checkpoint a loaded transformers model is: id, revision asked for, commit resolved (or the
    local directory's content hash)."""
    record: dict[str, Any] = {"repo_id": repo_id, "revision": revision, "commit": None}
    if is_local(repo_id):
        record.update(local=True, path=str(Path(repo_id).resolve()), sha256=directory_sha256(repo_id))
        return record
    # transformers < 5 sets config._commit_hash; 5.x does not, so the HF cache says which snapshot was read
    record["commit"] = getattr(model.config, "_commit_hash", None) or cached_commit(repo_id, revision)
    return record


def cached_commit(repo_id: str, revision: str | None, filename: str = "config.json") -> str | None:
    """The commit of the cached snapshot that `revision` (None = main) of `repo_id` resolves to, read from
    the cache's layout (snapshots/<commit>/); None when the file is not cached."""
    import re

    from huggingface_hub import try_to_load_from_cache

    path = try_to_load_from_cache(repo_id, filename, revision=revision)
    match = re.search(r"snapshots/([0-9a-f]{40})/", str(path)) if isinstance(path, str) else None
    return match.group(1) if match else None


def write_record(directory: str | os.PathLike[str], record: Mapping[str, Any]) -> None:
    from editlab.io import write_json

    write_json(Path(directory) / HUB_RECORD, dict(record))


def read_record(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The hub record of a model directory (None for a model built from scratch)."""
    path = Path(directory) / HUB_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"error": f"unreadable {path}"}
