"""profiles/slurm against a real single-node SLURM started by this test (munge + slurmctld + slurmd).

1. 8 GPU jobs through sbatch on a node with 2 (fake) GPUs: SLURM pins them, never more than 2 at once.
2. The real workflow on config/ci.yaml through profiles/slurm equals a local run, file by file.

Runs in CI (as root, after .ci/system_packages.sh installed slurm-wlm and munge) and must not skip
there; it skips only on a developer machine where it is neither root nor CI.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_workflow

from slurm_local import local_slurm
from test_gpu_slots import overlaps, write_slot_workflow

REPO = Path(__file__).resolve().parents[1]
N_SLOT_JOBS = 8
# Without an accounting database sacct never reports; the test cluster has none.
SLURM_TEST_FLAGS = ["--slurm-no-account", "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs"]

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("needs root to start SLURM (runs in CI)")
    # In CI or as root: any failure to start SLURM is an error, never a skip.
    with local_slurm(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster
        wait_queue_empty(cluster)


def wait_queue_empty(cluster, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and cluster.run("squeue", "-h", check=False).stdout.strip():
        time.sleep(0.5)


def snakemake(workdir: Path, args: list[str], env: dict[str, str], timeout: int = 2400) -> str:
    env = {k: v for k, v in env.items() if k not in ("CUDA_VISIBLE_DEVICES",)}
    # The library of the workflow copy when there is one, else this checkout's.
    env["PYTHONPATH"] = str(workdir / "src" if (workdir / "src").is_dir() else REPO / "src")
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


def slurm_job_ids(output: str) -> list[str]:
    return re.findall(r"submitted with SLURM jobid (\d+)", output)


def test_gpu_jobs_are_pinned_by_slurm_two_at_a_time(slurm, tmp_path):
    root = tmp_path / "wf"
    write_slot_workflow(root)
    # The slot workflow's N_JOBS jobs ask gpu=1; the global cap (8) does not bind, the 2 GRES GPUs do.
    out = snakemake(root, ["--executor", "slurm", "--jobs", "8", "--resources", "gpu=8", *SLURM_TEST_FLAGS,
                           "--latency-wait", "5", "all"], slurm.env())
    records = [json.loads((root / "out" / f"job{i}.json").read_text()) for i in range(N_SLOT_JOBS)]
    assert len(set(slurm_job_ids(out))) == N_SLOT_JOBS, out[-3000:]
    by_device: dict[str, list[tuple[float, float]]] = {}
    for rec in records:
        assert rec["reason"] == "slurm" and len(rec["devices"]) == 1, rec  # SLURM pinned, no local lock
        by_device.setdefault(rec["devices"][0], []).append((rec["start"], rec["end"]))
    assert set(by_device) == {"0", "1"}
    for device, intervals in by_device.items():
        assert not overlaps(intervals), f"GPU {device} given to two SLURM jobs at once"
    events = sorted([(r["start"], 1) for r in records] + [(r["end"], -1) for r in records])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 2


TIMING_WORDS = ("seconds", "time", "hours")


def comparable(path: Path):
    """File content for the equality check. Wall-clock timings (keys, columns or rows naming seconds,
    time or hours) are not results; floats are compared to 10 significant digits and tensors to 1e-9 of
    their largest entry, since SLURM and local jobs may sum in a different thread order."""
    if path.suffix == ".json":
        return strip_timings(json.loads(path.read_text()))
    if path.suffix == ".jsonl":
        return [strip_timings(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_text())))
        keep = [i for i, name in enumerate(rows[0] if rows else []) if not _timing(name)]
        return [[_number(row[i]) for i in keep if i < len(row)] for row in rows
                if not any(_timing(cell) for cell in row)]
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return TensorsClose(load_file(str(path)))
    return path.read_bytes()


class TensorsClose:
    def __init__(self, tensors):
        self.tensors = tensors

    def __eq__(self, other):
        import numpy as np

        return self.tensors.keys() == other.tensors.keys() and all(
            self.tensors[k].shape == other.tensors[k].shape
            and np.allclose(self.tensors[k], other.tensors[k], rtol=1e-9,
                            atol=1e-9 * float(np.abs(self.tensors[k]).max(initial=0.0)))
            for k in self.tensors)


def _timing(text: str) -> bool:
    return any(word in text for word in TIMING_WORDS)


def _number(cell: str):
    try:
        return float(f"{float(cell):.10g}")
    except ValueError:
        return cell


def strip_timings(obj):
    if isinstance(obj, dict):
        return {k: strip_timings(v) for k, v in obj.items() if not _timing(k)}
    if isinstance(obj, list):
        return [strip_timings(v) for v in obj]
    if isinstance(obj, float):
        return "nan" if math.isnan(obj) else float(f"{obj:.10g}")
    return obj


RESULT_SUFFIXES = {".json", ".jsonl", ".txt", ".csv", ".md", ".safetensors"}


def result_files(root: Path) -> dict[str, Path]:
    base = root / "results" / "ci"
    return {str(p.relative_to(base)): p for p in sorted(base.rglob("*"))
            if p.is_file() and p.suffix in RESULT_SUFFIXES}


def test_ci_workflow_on_slurm_equals_local_run(slurm, tmp_path):
    started = time.monotonic()
    local = copy_workflow(tmp_path / "local")
    snakemake(local, ["--cores", "2", "--resources", "gpu=0", "--configfile", "config/ci.yaml"], dict(os.environ))
    local_s = time.monotonic() - started

    remote = copy_workflow(tmp_path / "slurm")
    out = snakemake(remote, ["--profile", "profiles/slurm", "--configfile", "config/ci.yaml", *SLURM_TEST_FLAGS,
                             "--resources", "gpu=2", "--latency-wait", "5"], slurm.env())
    slurm_s = time.monotonic() - started - local_s
    print(f"local run {local_s:.1f} s, SLURM run {slurm_s:.1f} s")

    # Every non-local job went through sbatch: one SLURM log per job id, named by the id.
    ids = set(slurm_job_ids(out))
    logs = list((remote / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert ids and {p.stem for p in logs} >= ids, (ids, logs, out[-3000:])
    n_jobs = len(re.findall(r"^rule \w+:", out, flags=re.M))  # remote jobs; local ones say 'localrule'
    assert len(ids) == n_jobs, f"{len(ids)} SLURM jobs for {n_jobs} remote jobs"

    mine, theirs = result_files(local), result_files(remote)
    assert mine.keys() == theirs.keys() and mine
    assert any(k.endswith("metrics.json") for k in mine)
    differing = [k for k in mine if comparable(mine[k]) != comparable(theirs[k])]
    assert not differing, f"SLURM results differ from the local run: {differing}"
