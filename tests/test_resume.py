"""Resumable SME streams (docs/reliability.md): a crashed or SIGKILLed fold job, rerun, ends with exactly
the results of an uninterrupted run; the same config and seed give the same per-edit logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import copy_workflow, run_snakemake
from test_sme import _config, _write_world

from editlab.editors.ft import FT
from editlab.editors.ftkl import FTKL
from editlab.editors.tpatcher import TPatcher
from editlab.sme.resume import RESUME_FILE
from editlab.sme.runner import run_stream

EDITORS = {"tpatcher": TPatcher, "ft": FT, "ftkl": FTKL}


class SimulatedCrash(Exception):
    """Stands in for a kill inside an edit (the real SIGKILL is in the workflow test below)."""


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def strip_wall_clock(value):
    """A result with its wall-clock keys and memory readings removed (everything else must match exactly)."""
    if isinstance(value, dict):
        return {k: strip_wall_clock(v) for k, v in value.items() if "seconds" not in k and "rss" not in k}
    if isinstance(value, list):
        return [strip_wall_clock(v) for v in value]
    return value


def read_results(out: Path) -> dict:
    def jsonl(name):
        return [json.loads(line) for line in (out / name).read_text().splitlines()]
    return strip_wall_clock({"edits": jsonl("edits.jsonl"), "curve": jsonl("curve.jsonl"),
                             "summary": json.loads((out / "summary.json").read_text())})


def crash_at_edit(monkeypatch, method: str, n: int) -> None:
    """Make the n-th edit (1-based) of this process raise, as a kill in the middle of a stream would."""
    cls = EDITORS[method]
    real_edit = cls.edit
    calls = {"n": 0}

    def edit(self, example, index):
        calls["n"] += 1
        if calls["n"] == n:
            raise SimulatedCrash(f"edit {n}")
        return real_edit(self, example, index)

    monkeypatch.setattr(cls, "edit", edit)


@pytest.mark.parametrize("task,method", [("fever", "tpatcher"), ("zsre", "tpatcher"), ("zsre", "ft"),
                                         ("zsre", "ftkl")])
def test_crashed_stream_resumes_to_identical_results(tmp_path, monkeypatch, task, method):
    files = _write_world(tmp_path, task)
    config = _config(resume_every=1)
    run_stream(task, method, config, files, tmp_path / "whole", "fold0")
    whole = read_results(tmp_path / "whole")
    n_edits = whole["summary"]["n_edits"]
    assert n_edits >= 2, "the tiny world must make at least two edits for a mid-stream crash"
    assert not (tmp_path / "whole" / RESUME_FILE).exists()   # removed once the outputs are in place

    out = tmp_path / "resumed"
    with monkeypatch.context() as patch:
        crash_at_edit(patch, method, n_edits)    # crash in the last edit: n_edits - 1 are checkpointed
        with pytest.raises(SimulatedCrash):
            run_stream(task, method, config, files, out, "fold0")
    assert (out / RESUME_FILE).exists() and not (out / "summary.json").exists()
    ckpt = torch.load(out / RESUME_FILE, weights_only=True)
    assert len(ckpt["state"]["edit_ids"]) == n_edits - 1

    with monkeypatch.context() as patch:   # the rerun must not redo the checkpointed edits
        crash_at_edit(patch, method, 2)
        run_stream(task, method, config, files, out, "fold0")
    assert read_results(out) == whole
    assert not (out / RESUME_FILE).exists()


def test_checkpoint_of_another_config_is_ignored(tmp_path, monkeypatch):
    files = _write_world(tmp_path, "fever")
    out = tmp_path / "o"
    with monkeypatch.context() as patch:
        crash_at_edit(patch, "tpatcher", 2)
        with pytest.raises(SimulatedCrash):
            run_stream("fever", "tpatcher", _config(resume_every=1), files, out, "fold0")
    assert (out / RESUME_FILE).exists()
    other = _config(resume_every=1)
    other["sme"]["tpatcher"]["lr"] = 0.02       # a different job: its stream starts from scratch
    run_stream("fever", "tpatcher", other, files, out, "fold0")
    run_stream("fever", "tpatcher", other, files, tmp_path / "fresh", "fold0")
    assert read_results(out) == read_results(tmp_path / "fresh")


def test_damaged_checkpoint_starts_over(tmp_path):
    files = _write_world(tmp_path, "fever")
    out = tmp_path / "o"
    out.mkdir()
    (out / RESUME_FILE).write_bytes(b"not a checkpoint")
    run_stream("fever", "ft", _config(resume_every=1), files, out, "fold0")
    run_stream("fever", "ft", _config(resume_every=1), files, tmp_path / "fresh", "fold0")
    assert read_results(out) == read_results(tmp_path / "fresh")


# --- real snakemake runs of config/ci.yaml ---------------------------------------------------------------
KILLED = "results/ci/sme/fever/tpatcher/fold0"        # the job that gets SIGKILLed mid-stream
PLAIN = "results/ci/sme/fever/ft/fold1"               # run uninterrupted in both copies
CI = ("--configfile", "config/ci.yaml")


@pytest.fixture
def uninterrupted(ci_finished) -> Path:
    # The session's shared run of the whole ci workflow (conftest.ci_finished), both jobs included; read only.
    return ci_finished


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"snakemake ended ({proc.returncode}) before {path} appeared")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory) -> tuple[Path, dict]:
    """A fresh copy: everything the fold job needs, then the job itself, SIGKILLed (snakemake and the job,
    the whole process group) as soon as its first resume checkpoint exists, then the workflow rerun."""
    work = copy_workflow(tmp_path_factory.mktemp("killed") / "wf")
    run_snakemake(work, *CI, "--omit-from", "sme_tpatcher", "--", f"{KILLED}/summary.json", f"{PLAIN}/summary.json")
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=0", *CI, "--", f"{KILLED}/summary.json"]
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONHASHSEED="0"), start_new_session=True)
    checkpoint = work / KILLED / RESUME_FILE
    try:
        _wait_for(checkpoint, proc, timeout=300)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    at_kill = torch.load(checkpoint, weights_only=True)["state"]
    assert not (work / KILLED / "summary.json").exists()   # no output before the stream is done
    run_snakemake(work, *CI, "--unlock")                     # a killed snakemake leaves its lock behind
    run_snakemake(work, *CI, "--rerun-incomplete", "--", f"{KILLED}/summary.json")
    return work, at_kill


@pytest.mark.slow
@pytest.mark.xdist_group("resume")
def test_sigkilled_fold_job_resumes_to_uninterrupted_results(uninterrupted, killed_and_resumed):
    work, at_kill = killed_and_resumed
    whole = read_results(uninterrupted / KILLED)
    assert 0 < len(at_kill["edit_ids"]) < whole["summary"]["n_edits"], "the kill must fall mid-stream"
    log = (work / "logs/ci/sme/fever/tpatcher/fold0.log").read_text()
    assert f"at position {at_kill['position']} ({len(at_kill['edit_ids'])} edits)" in log   # really resumed
    assert read_results(work / KILLED) == whole
    for name in ("patches.safetensors", "final_predictions.jsonl"):   # the exported patches too
        assert (work / KILLED / name).read_bytes() == (uninterrupted / KILLED / name).read_bytes(), name
    assert not (work / KILLED / RESUME_FILE).exists()
    dry = run_snakemake(work, *CI, "-n", "--", f"{KILLED}/summary.json")
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("resume")
def test_same_config_same_results_in_fresh_copies(uninterrupted, killed_and_resumed):
    """Determinism across two fresh workflow copies: base model metrics and per-edit logs."""
    work, _ = killed_and_resumed
    assert read_results(work / PLAIN) == read_results(uninterrupted / PLAIN)
    for rel in ("results/ci/base/fever/metrics.json", "results/ci/splits/fever/fold1.txt"):
        a, b = (uninterrupted / rel).read_text(), (work / rel).read_text()
        if rel.endswith(".json"):
            a, b = strip_wall_clock(json.loads(a)), strip_wall_clock(json.loads(b))
        assert a == b, rel


@pytest.mark.slow
@pytest.mark.xdist_group("resume")
def test_fold_results_record_provenance(uninterrupted):
    from editlab.config import config_hash, load_config

    expected = config_hash(load_config(uninterrupted / "config/ci.yaml", base=uninterrupted / "config.yaml"))
    for rel in (f"{KILLED}/summary.json", f"{PLAIN}/summary.json", "results/ci/base/fever/metrics.json"):
        prov = json.loads((uninterrupted / rel).read_text())["provenance"]
        assert prov["config_hash"] == expected and prov["seed"] == 0 and prov["git_commit"] == "unknown", rel
        assert prov["device"] == "cpu" and prov["versions"]["torch"] == torch.__version__
    summary = json.loads((uninterrupted / KILLED / "summary.json").read_text())
    assert summary["provenance"]["protocol"] == summary["protocol"]
