"""Determinism (issue 7): the whole config/ci.yaml workflow, run a second time in a fresh copy, gives the
same per-edit logs and results as the session's shared run (conftest.ci_finished).

Compared exactly, only wall-clock timings left out (keys naming seconds, time or hours; tests/ci_results.py):
every SME fold's edits.jsonl line by line, its summary.json and curve.jsonl, the NMT summaries; the base
models' metrics (timings left out), the split and fold files byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ci_results import comparable, read_jsonl, result_files
from conftest import shared_ci_run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("determinism")]

TASKS = ("fever", "zsre")
METHODS = ("tpatcher", "ft", "ftkl")


@pytest.fixture(scope="session")
def second_run(tmp_path_factory) -> Path:
    """The second run, in its own fresh copy; shared like ci_finished, so that it runs once per session
    whichever workers the tests below land on."""
    return shared_ci_run(tmp_path_factory, "ci_second")


def relative(root: Path, pattern: str) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob(pattern) if p.is_file())


def test_per_edit_logs_are_identical(ci_finished, second_run):
    files = relative(ci_finished, "results/ci/sme/**/edits.jsonl")
    assert files == relative(second_run, "results/ci/sme/**/edits.jsonl")
    # One log per fold of every method and task, and the comparison below really reads edits.
    assert len(files) == len(TASKS) * len(METHODS) * 2, files
    n_lines = n_edits = 0
    for rel in files:
        first, second = read_jsonl(ci_finished / rel, None), read_jsonl(second_run / rel, None)
        assert len(first) == len(second), rel
        for number, (a, b) in enumerate(zip(first, second), start=1):
            assert a == b, f"{rel} line {number}: {a} != {b}"
        n_lines += len(first)
        n_edits += sum(1 for row in first if row.get("was_error"))
    assert n_lines > 0 and n_edits > 0, (n_lines, n_edits)


def test_sme_summaries_and_curves_are_identical(ci_finished, second_run):
    for name in ("summary.json", "curve.jsonl"):
        files = relative(ci_finished, f"results/ci/sme/**/{name}")
        assert files == relative(second_run, f"results/ci/sme/**/{name}")
        assert len(files) == len(TASKS) * len(METHODS) * 2, files
        for rel in files:
            assert comparable(ci_finished / rel, None) == comparable(second_run / rel, None), rel
    summary = json.loads((ci_finished / "results/ci/sme/fever/tpatcher/fold0/summary.json").read_text())
    assert summary["n_edits"] > 0


def test_nmt_summaries_are_identical(ci_finished, second_run):
    files = relative(ci_finished, "results/ci/nmt/*/*/*.json")
    assert files == relative(second_run, "results/ci/nmt/*/*/*.json")
    assert any(f.endswith("/summary.json") for f in files) and any(f.endswith("/sequential.json") for f in files)
    for rel in files + ["results/ci/nmt/model_metrics.json"]:
        assert comparable(ci_finished / rel, None) == comparable(second_run / rel, None), rel


def test_base_metrics_and_splits_are_identical(ci_finished, second_run):
    for task in TASKS:
        rel = f"results/ci/base/{task}/metrics.json"
        assert comparable(ci_finished / rel, None) == comparable(second_run / rel, None), rel
        splits = relative(ci_finished, f"results/ci/splits/{task}/*")
        assert splits == relative(second_run, f"results/ci/splits/{task}/*")
        assert f"results/ci/splits/{task}/fold1.txt" in splits
        for rel in splits:
            assert (ci_finished / rel).read_bytes() == (second_run / rel).read_bytes(), rel


def test_every_result_file_is_identical(ci_finished, second_run):
    """All the rest too (tables, task files, patches, model weights), timings left out, tensors bit for bit."""
    first, second = result_files(ci_finished), result_files(second_run)
    assert first.keys() == second.keys() and first
    differing = [k for k in first if comparable(first[k], None) != comparable(second[k], None)]
    assert not differing, f"results of the second run differ: {differing}"
