"""profiles/slurm against a real single-node SLURM started by this test (munge + slurmctld + slurmd).

1. 8 GPU jobs through sbatch on a node with 2 (fake) GPUs: SLURM pins them, never more than 2 at once.
2. The real workflow on config/ci.yaml through profiles/slurm equals a local run (the session's shared
   finished run, conftest.ci_finished), file by file: wall-clock timings left out, floats to 10 significant
   digits and tensors to 1e-9 of their largest entry, since SLURM and local jobs may sum in a different
   thread order (tests/ci_results.py). The SLURM run builds the FEVER slice of the DAG, every stage kind
   the profile treats differently (the local data rule, splits and folds, the base model and the
   editing folds of every method as GPU jobs with their set-resources, the per-method aggregation):
   13 jobs instead of the whole workflow's ~50, which took ~20 minutes of CI through sbatch and squeue.

Runs in CI (as root, after .ci/system_packages.sh installed slurm-wlm and munge) and must not skip
there; it skips only on a developer machine where it is neither root nor CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ci_results import comparable, result_files
from conftest import copy_workflow
from slurm_local import local_slurm
from test_gpu_slots import overlaps, write_slot_workflow

REPO = Path(__file__).resolve().parents[1]
N_SLOT_JOBS = 8
SME_METHODS = ("tpatcher", "ft", "ftkl")
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


def test_ci_workflow_on_slurm_equals_local_run(slurm, ci_finished, tmp_path):
    # The local run is the session's shared run of the whole ci workflow (conftest.ci_finished); read only.
    local = ci_finished
    started = time.monotonic()
    remote = copy_workflow(tmp_path / "slurm")
    targets = [f"results/ci/tables/sme/fever/{method}.csv" for method in SME_METHODS]
    out = snakemake(remote, ["--profile", "profiles/slurm", "--configfile", "config/ci.yaml", *SLURM_TEST_FLAGS,
                             *targets, "--resources", "gpu=2", "--latency-wait", "5"], slurm.env())
    print(f"SLURM run {time.monotonic() - started:.1f} s")

    # Every non-local job went through sbatch: one SLURM log per job id, named by the id.
    ids = set(slurm_job_ids(out))
    logs = list((remote / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert ids and {p.stem for p in logs} >= ids, (ids, logs, out[-3000:])
    n_jobs = len(re.findall(r"^rule \w+:", out, flags=re.M))  # remote jobs; local ones say 'localrule'
    assert len(ids) == n_jobs, f"{len(ids)} SLURM jobs for {n_jobs} remote jobs"

    mine, theirs = result_files(local), result_files(remote)
    assert theirs and set(theirs) <= set(mine), sorted(set(theirs) - set(mine))
    for method in SME_METHODS:   # every stage of the slice is there, and nothing of the other task
        assert {f"sme/fever/{method}/fold{k}/summary.json" for k in (0, 1)} <= set(theirs)
    assert {"base/fever/metrics.json", "splits/fever/fold1.txt", "tables/sme/fever/ftkl.csv"} <= set(theirs)
    assert not any(k.startswith(("splits/zsre", "base/zsre", "sme/zsre", "nmt/")) for k in theirs)
    differing = [k for k in theirs if comparable(mine[k]) != comparable(theirs[k])]
    assert not differing, f"SLURM results differ from the local run: {differing}"
