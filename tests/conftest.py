"""Shared fixtures: paths, the optional ../shared data, a copy of the workflow to run in a tmp dir, and one
finished run of config/ci.yaml shared by the whole test session."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDITLAB_SHARED", REPO.parent / "shared"))
WORKFLOW_PARTS = ("Snakefile", "config.yaml", "config", "workflow", "src", "profiles", "envs")


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"shared data not present at {path}")
    return path


def copy_workflow(dest: Path) -> Path:
    """A runnable copy of the workflow (code + configs, no results) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, dest / part)
    return dest


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 2400, gpus: int = 0,
                  env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--resources", f"gpu={gpus}", *args]
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"}
    env.update(PYTHONHASHSEED="0", **(env_extra or {}))
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


CI_CONFIG = ("--configfile", "config/ci.yaml")
# The shared ci run hands out 2 GPU tokens over 2 pretend slots (editlab.gpu, no CUDA needed: jobs still
# run on CPU, so the results are those of --resources gpu=0), so that its job logs show the slot claims.
CI_GPUS = 2


def ci_gpu_env(workdir: Path) -> dict[str, str]:
    """EDITLAB_GPU_SLOTS for the shared ci run, with lock files of its own (not shared with other runs)."""
    return {"EDITLAB_GPU_SLOTS": str(CI_GPUS), "EDITLAB_GPU_LOCK_DIR": str(workdir.parent / "gpu-locks")}


def shared_workdir(tmp_path_factory, name: str, build: Callable[[Path], object]) -> Path:
    """`<session tmp>/<name>/wf` after `build(workdir)` has run there, once per test session and `name`:
    the pytest-xdist workers share one directory, the first to get here builds it under a file lock, the
    others wait for it and use it. A failed build is not repeated by the next worker (it re-raises).
    (A session-wide lock, not xdist_group: the groups do not keep tests on one worker with pytest 9.2
    and pytest-xdist 3.8, whose group suffix on node ids no longer takes effect.)"""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent          # the session's directory, above each worker's own
    workdir = root / name / "wf"
    done, failed = root / f"{name}.ok", root / f"{name}.failed"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)       # released when the file closes (or the worker dies)
        if failed.exists():                    # another worker's run failed: do not run it again
            raise AssertionError(f"the shared run {name} failed (in another worker):\n{failed.read_text()}")
        if not done.exists():
            if workdir.parent.exists():
                shutil.rmtree(workdir.parent)  # an earlier worker died mid-run
            try:
                build(workdir)
            except Exception as exc:
                failed.write_text(str(exc))
                raise
            done.write_text("finished\n")     # only after success
    return workdir


def shared_ci_run(tmp_path_factory, name: str) -> Path:
    """A workflow copy in which the whole config/ci.yaml workflow has run (`snakemake --configfile
    config/ci.yaml --resources gpu=2`, EDITLAB_GPU_SLOTS=2, default target), once per test session and
    `name` (shared_workdir)."""
    return shared_workdir(tmp_path_factory, name, lambda workdir: run_snakemake(
        copy_workflow(workdir), *CI_CONFIG, gpus=CI_GPUS, env_extra=ci_gpu_env(workdir)))


@pytest.fixture(scope="session")
def ci_finished(tmp_path_factory) -> Path:
    """The session's finished run of the whole ci workflow (shared_ci_run), for every test that needs one.

    Read only: a test that changes files or runs snakemake there (even a dry run) works on its own
    `copy_finished(ci_finished, tmp_path / ...)`.
    """
    return shared_ci_run(tmp_path_factory, "ci_finished")


def copy_finished(src: Path, dest: Path) -> Path:
    """A copy of a finished workflow directory (results, .snakemake metadata and mtimes) to work in."""
    shutil.copytree(src, dest, symlinks=True, copy_function=shutil.copy2)
    return dest
