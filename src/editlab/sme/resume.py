"""Resumable streams: a fold job checkpoints its state every k edits and a rerun continues from there.

The checkpoint is one file (`RESUME_FILE`) in the fold directory, written atomically and never a
Snakemake output: the contract files appear only when the stream is done, and the checkpoint is removed
after them. It holds the stream state (position, per-edit log, curve), the editor's state (patches,
memory growth, FFN weights; no optimiser, a fresh one is made per edit) and every RNG the stream draws
from. A fingerprint of the config and the job's input files guards against resuming a different job.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from editlab.config import config_hash
from editlab.errors import EditlabError
from editlab.io import save_torch
from editlab.sme.state import StreamState

log = logging.getLogger(__name__)

RESUME_FILE = ".resume.pt"
FORMAT = 1


def _file_stamps(files: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every input file (directories walked): cheap, and any rewrite changes it."""
    paths: list[Path] = []
    for value in files.values():
        for item in value if isinstance(value, list | tuple) else [value]:
            item = Path(item)
            paths += sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
    stamps = []
    for p in paths:
        st = p.stat() if p.exists() else None
        stamps.append((str(p), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    return stamps


def job_fingerprint(config: Mapping[str, Any], files: Mapping[str, Any], **job: Any) -> str:
    """Hash of the whole config, the job's identity (task, method, fold, path, threads) and its inputs."""
    return config_hash({"config": config, "job": job, "inputs": _file_stamps(files)})


def rng_states(device: str) -> dict[str, Any]:
    states: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states["numpy"] = (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss)
    if str(device).startswith("cuda"):
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Mapping[str, Any]) -> None:
    random.setstate(states["python"])
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: str | os.PathLike[str], fingerprint: str, state: StreamState, editor: Any,
                    device: str) -> None:
    blob = {"format": FORMAT, "fingerprint": fingerprint, "state": state.to_dict(),
            "editor": editor.snapshot(), "rng": rng_states(device)}
    save_torch(path, blob)   # atomic: a failed or killed write leaves the previous checkpoint usable


def load_checkpoint(path: str | os.PathLike[str], fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint of this very job, or None (no file, or one of another config/input: ignored)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:   # atomic writes make this unlikely; a damaged file must not block the job
        log.warning("%s: unreadable checkpoint (%s); starting the stream from the beginning", path, exc)
        return None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        log.warning("%s: checkpoint of another format; starting from the beginning", path)
        return None
    if blob.get("fingerprint") != fingerprint:
        log.info("%s: checkpoint of another config or inputs; starting from the beginning", path)
        return None
    return blob


def resume_from(blob: Mapping[str, Any], editor: Any, stream: Sequence[Any]) -> StreamState:
    """Restore editor and RNGs from a checkpoint (call after `editor.prepare`); the stream state to go on."""
    state = StreamState.from_dict(blob["state"])
    if state.position > len(stream):
        raise EditlabError(f"checkpoint position {state.position} is past the end of the stream ({len(stream)})")
    editor.restore(blob["editor"], edited_examples(state, stream))
    set_rng_states(blob["rng"])
    return state


def edited_examples(state: StreamState, stream: Sequence[Any]) -> list[Any]:
    return [stream[r["index"]] for r in state.records if r["was_error"]]


def remove_checkpoint(path: str | os.PathLike[str]) -> None:
    Path(path).unlink(missing_ok=True)
