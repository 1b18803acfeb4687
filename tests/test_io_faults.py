"""Faults while writing: a SIGKILL during a model save, a full disk during a checkpoint, a failed swap.

Nothing is lost (the old output stays whole until the new one is in place), nothing is left behind (the
next run of the job removes a killed write's temporary siblings), and the error is one line
`<path>: <strerror>`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from test_resume import read_results
from test_sme import _config, _write_world

import editlab.io as eio
from editlab.errors import FileWriteError
from editlab.io import atomic_dir, leftovers, write_json
from editlab.models.pipeline import train_and_save
from editlab.sme.resume import RESUME_FILE, load_checkpoint
from editlab.sme.runner import run_stream

# The base-model job (editlab.models.pipeline.train_and_save) in a child process; with HANG set, the model
# save stops after the weights and tokenizer are written into the temporary directory, before the swap.
BASE_JOB = """
import json, sys, time
from pathlib import Path
import editlab.models.pipeline as pipeline
root, hang = Path(sys.argv[1]), len(sys.argv) > 2
real_save = pipeline.save_base_model
def save(model, tok, directory):
    real_save(model, tok, directory)
    if hang:
        (root / "saving").write_text(str(directory))
        time.sleep(120)
pipeline.save_base_model = save
files = json.loads((root / "files.json").read_text())
config = json.loads((root / "config.json").read_text())
pipeline.train_and_save("fever", config, files, root / "model", root / "metrics.json")
"""


def _base_job(root: Path, hang: bool) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    args = [sys.executable, "-c", BASE_JOB, str(root)] + (["hang"] if hang else [])
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _digests(model: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(model.iterdir())}


def test_sigkill_during_model_save_then_rerun(tmp_path):
    """Kill the base-model job (a real process) mid-save while an older model is in place: the old model
    stays whole, the rerun removes the killed save's `.model.XXXXXXXX/` and writes byte-identical files."""
    files = _write_world(tmp_path, "fever")
    files["train"] = files["trainr"]
    config = _config()
    config["base"]["fever"]["train"]["epochs"] = 1
    (tmp_path / "files.json").write_text(json.dumps(files))
    (tmp_path / "config.json").write_text(json.dumps(config))
    model = tmp_path / "model"

    train_and_save("fever", config, files, model, tmp_path / "metrics.json")   # the uninterrupted job
    done = _digests(model)
    assert set(done) >= {"config.json", "model.safetensors", "tokenizer.json"}

    killed = _base_job(tmp_path, hang=True)
    deadline = time.monotonic() + 300
    while not (tmp_path / "saving").exists():
        assert killed.poll() is None, killed.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    left = leftovers(model)
    assert [p.name for p in left] == [Path((tmp_path / "saving").read_text()).name]   # the killed save's dir
    assert _digests(model) == done                  # the model in place is whole and untouched

    rerun = _base_job(tmp_path, hang=False)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    assert leftovers(model) == [] and not any(p.name.startswith(".model.") for p in tmp_path.iterdir())
    assert _digests(model) == done                  # same inputs, same seed: the same bytes


def test_full_disk_during_checkpoint_keeps_the_last_good_one(tmp_path, monkeypatch):
    """ENOSPC while writing the second resume checkpoint: one line `<.resume.pt>: No space left on device`,
    the first checkpoint stays loadable, and the rerun resumes from it to the uninterrupted results."""
    files = _write_world(tmp_path, "zsre")   # 4 edits with this fixture: a checkpoint after each
    config = _config(resume_every=1)
    run_stream("zsre", "ft", config, files, tmp_path / "clean", "fold0")

    real_write = Path.write_bytes
    saves = []

    def full_disk(self: Path, data: bytes) -> int:
        if self.name.startswith(f".{RESUME_FILE}."):
            saves.append(self)
            if len(saves) == 2:
                real_write(self, data[: len(data) // 3])   # part of it fits, then the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    out = tmp_path / "out"
    with pytest.raises(FileWriteError) as err:
        run_stream("zsre", "ft", config, files, out, "fold0")
    assert str(err.value) == f"{out / RESUME_FILE}: No space left on device"
    assert [p.name for p in out.iterdir()] == [RESUME_FILE]          # no partial temp file, no outputs
    monkeypatch.undo()

    blob = load_checkpoint(out / RESUME_FILE, _fingerprint(config, files))
    assert blob is not None and blob["state"]["position"] >= 1
    run_stream("zsre", "ft", config, files, out, "fold0")
    assert read_results(out) == read_results(tmp_path / "clean")
    assert not (out / RESUME_FILE).exists()


def _fingerprint(config: dict, files: dict) -> str:
    from editlab.sme.resume import job_fingerprint

    return job_fingerprint(config, files, task="zsre", method="ft", fold="fold0", path="cached", threads=1)


def test_killed_checkpoint_write_is_cleaned_by_the_next_run(tmp_path):
    files = _write_world(tmp_path, "fever")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".{RESUME_FILE}.k3j2h1g0.tmp"                   # what a kill inside torch.save left
    stale.write_bytes(b"\0" * 4096)
    unrelated = out / ".resume.pt.notes"                            # not a temp sibling: kept
    unrelated.write_text("mine")
    run_stream("fever", "ft", _config(), files, out, "fold0")
    assert not stale.exists() and unrelated.exists()
    assert (out / "summary.json").is_file()


def test_atomic_dir_never_deletes_the_old_directory_first(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    # a failure while the new directory is written: the old one is untouched, no temp left
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("killed")
    assert (target / "a.txt").read_text() == "old" and leftovers(target) == []
    # without an atomic exchange (another filesystem), and the final rename failing: the old one comes back
    monkeypatch.setattr(eio, "_exchange", lambda a, b: False)
    real_replace = os.replace

    def replace(src, dst):
        if Path(src).name.startswith(".model.") and not str(src).endswith(".old"):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(eio.os, "replace", replace)
    with pytest.raises(FileWriteError, match=rf"^{target}: Input/output error$"):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "old" and leftovers(target) == []
    monkeypatch.setattr(eio.os, "replace", real_replace)
    with atomic_dir(target) as tmp:          # the fallback path itself: old aside, new in, old removed
        (tmp / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "new" and leftovers(target) == []


def test_write_errors_name_path_and_strerror(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    cases = {
        tmp_path / "afile" / "x.json": "a parent of this path is a file, not a directory",
        tmp_path: "is a directory, a file was to be written here",
    }
    for path, problem in cases.items():
        with pytest.raises(FileWriteError) as err:
            write_json(path, {})
        assert str(err.value) == f"{path}: {problem}"
    with pytest.raises(FileWriteError, match=r"afile: exists and is not a directory$"):
        with atomic_dir(tmp_path / "afile"):
            pass
    # a library that wraps the OS error in its own type (safetensors: `... (os error 28)`)
    from safetensors import SafetensorError

    with pytest.raises(FileWriteError) as err:
        with eio.atomic_path(tmp_path / "w.safetensors"):
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    assert str(err.value) == f"{tmp_path / 'w.safetensors'}: No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
