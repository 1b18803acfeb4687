"""GPU slot claiming (editlab.gpu): unit checks plus a real Snakemake run of 8 GPU jobs on 2 slots."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from editlab.errors import EditlabError
from editlab.gpu import LOCK_DIR_ENV, SLOTS_ENV, _lock_name, _try_lock, available_devices, claim_gpus
from editlab.runtime import gpu_slot

REPO = Path(__file__).resolve().parents[1]
N_JOBS = 8


def test_inherited_visible_devices_are_the_slots(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": "3,5"}
    assert available_devices(env) == ["3", "5"]
    with claim_gpus(1, env=env, lock_dir=tmp_path) as first:
        inner = {"CUDA_VISIBLE_DEVICES": "3,5"}
        with claim_gpus(1, env=inner, lock_dir=tmp_path) as second:
            assert first.devices == ("3",) and second.devices == ("5",)
            assert env["CUDA_VISIBLE_DEVICES"] == "3" and inner["CUDA_VISIBLE_DEVICES"] == "5"
    # released on exit: the next claim gets the first slot again
    with claim_gpus(2, env={"CUDA_VISIBLE_DEVICES": "3,5"}, lock_dir=tmp_path) as both:
        assert both.devices == ("3", "5")


def test_cpu_fallback_without_gpu_or_tokens(tmp_path, monkeypatch):
    monkeypatch.setattr("editlab.gpu.NVIDIA_PROC_DIR", tmp_path / "absent")
    env: dict[str, str] = {}
    with claim_gpus(1, env=env, lock_dir=tmp_path) as claim:
        assert not claim.uses_gpu and env["CUDA_VISIBLE_DEVICES"] == ""
    env = {SLOTS_ENV: "2"}
    with claim_gpus(0, env=env, lock_dir=tmp_path) as claim:
        assert not claim.uses_gpu and env["CUDA_VISIBLE_DEVICES"] == ""
    assert available_devices({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_slurm_jobs_are_left_alone(tmp_path):
    env = {"SLURM_JOB_ID": "17", "CUDA_VISIBLE_DEVICES": "1", SLOTS_ENV: "4"}
    with claim_gpus(1, env=env, lock_dir=tmp_path) as claim:
        assert claim.reason == "slurm" and claim.devices == ("1",)
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    assert not list(tmp_path.iterdir()), "no lock may be taken under SLURM"


def test_busy_slots_time_out_with_a_clear_error(tmp_path):
    fd = _try_lock(tmp_path / _lock_name("0"))  # another process's job holds the only GPU
    try:
        with pytest.raises(EditlabError, match="no free GPU slot"):
            with claim_gpus(1, env={SLOTS_ENV: "1"}, lock_dir=tmp_path, timeout_s=0.3, poll_s=0.05):
                pass
        with pytest.raises(EditlabError, match="asks for 3 GPUs"):
            with claim_gpus(3, env={SLOTS_ENV: "2"}, lock_dir=tmp_path):
                pass
    finally:
        os.close(fd)


def test_gpu_slot_reads_snakemake_resources(tmp_path, monkeypatch):
    monkeypatch.setenv(SLOTS_ENV, "1")
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with gpu_slot({"gpu": 1}) as claim:
        assert claim.devices == ("0",) and os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    with gpu_slot({"gpu": 0}) as claim:
        assert not claim.uses_gpu and os.environ["CUDA_VISIBLE_DEVICES"] == ""


SLOT_SNAKEFILE = f"""
rule all:
    input:
        expand("out/job{{i}}.json", i=range({N_JOBS})),


rule gpu_job:
    output:
        "out/job{{i}}.json",
    log:
        "logs/job{{i}}.log",
    threads: 1
    resources:
        gpu=1,
    script:
        "job.py"
"""

SLOT_SCRIPT = """
import json, os, time
from editlab.runtime import gpu_slot, script_logging

with script_logging(snakemake.log[0]), gpu_slot(snakemake.resources) as claim:
    start = time.time()
    time.sleep(0.6)
    record = {"devices": list(claim.devices), "visible": os.environ["CUDA_VISIBLE_DEVICES"], "reason": claim.reason,
              "start": start, "end": time.time(), "gpu_tokens": snakemake.resources.gpu}
    with open(snakemake.output[0], "w") as fh:
        json.dump(record, fh)
"""


def write_slot_workflow(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Snakefile").write_text(SLOT_SNAKEFILE)
    (root / "job.py").write_text(textwrap.dedent(SLOT_SCRIPT))


def run_slot_workflow(root: Path, gpus: int, slots: str | None) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    env["PYTHONPATH"] = str(REPO / "src")
    env[LOCK_DIR_ENV] = str(root / "locks")
    if slots is not None:
        env[SLOTS_ENV] = slots
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(N_JOBS), "--resources", f"gpu={gpus}",
           "--directory", str(root), "-s", str(root / "Snakefile"), "--quiet", "all"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads((root / "out" / f"job{i}.json").read_text()) for i in range(N_JOBS)]


def overlaps(intervals: list[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    ordered = sorted(intervals)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if b[0] < a[1]]


@pytest.mark.slow
def test_eight_gpu_jobs_on_two_slots_never_share_a_slot(tmp_path):
    root = tmp_path / "wf"
    write_slot_workflow(root)
    records = run_slot_workflow(root, gpus=2, slots="2")
    by_slot: dict[str, list[tuple[float, float]]] = {}
    for rec in records:
        assert len(rec["devices"]) == 1 and rec["visible"] == rec["devices"][0], rec
        by_slot.setdefault(rec["devices"][0], []).append((rec["start"], rec["end"]))
    assert set(by_slot) <= {"0", "1"}
    for slot, intervals in by_slot.items():
        assert not overlaps(intervals), f"slot {slot} held by two jobs at once: {overlaps(intervals)}"
    # Snakemake did run two GPU jobs at a time (else the check above would prove nothing), on both slots.
    events = sorted([(s, 1) for rec in records for s in [rec["start"]]] + [(rec["end"], -1) for rec in records],
                    key=lambda e: (e[0], e[1]))
    running, peak = 0, 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 2 and set(by_slot) == {"0", "1"}


@pytest.mark.slow
def test_gpu_zero_scales_jobs_down_to_cpu(tmp_path):
    root = tmp_path / "wf"
    write_slot_workflow(root)
    records = run_slot_workflow(root, gpus=0, slots="2")
    assert all(rec["gpu_tokens"] == 0 and rec["devices"] == [] and rec["visible"] == "" for rec in records)


def test_profiles_say_what_the_docs_say():
    import yaml

    local = yaml.safe_load((REPO / "profiles/local-gpu/config.yaml").read_text())
    assert local["cores"] == "all" and local["resources"] == ["gpu=8"]
    slurm = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert slurm["executor"] == "slurm" and "cores" not in slurm  # --cores all would cap remote threads
    assert "gpu=8" in slurm["resources"] and slurm["set-resources"]["base_model"]["gpu"] == 1


# --- the real ci workflow's jobs ------------------------------------------------------------------------

LOG_TIME = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"


def planned_jobs(workdir: Path, gpus: int) -> dict[str, int]:
    """Log file -> gpu tokens of every job of the ci workflow, as Snakemake plans them (`-n --forceall`)."""
    from conftest import CI_CONFIG, run_snakemake

    proc = run_snakemake(workdir, "-n", "--forceall", *CI_CONFIG, gpus=gpus)
    jobs = {}
    for block in re.split(r"^(?=(?:local)?rule \w+:)", proc.stdout, flags=re.M):
        log = re.search(r"^    log: (\S+)$", block, flags=re.M)
        resources = re.search(r"^    resources: (.*)$", block, flags=re.M)
        if log and resources:
            tokens = re.search(r"\bgpu=(\d+)", resources.group(1))
            jobs[log.group(1)] = int(tokens.group(1)) if tokens else 0
    return jobs


def held_span(text: str, log: str) -> tuple[str, float, float]:
    """(slot, claimed at, released at) from a job log's claim and release lines."""
    from datetime import datetime

    claim = re.findall(LOG_TIME + r" editlab.gpu INFO claimed GPU slot\(s\) (\S+) ", text)
    release = re.findall(LOG_TIME + r" editlab.gpu INFO releasing GPU slot\(s\) (\S+)$", text, flags=re.M)
    assert len(claim) == 1 and len(release) == 1 and claim[0][1] == release[0][1], f"{log}: {claim} {release}"
    stamp = lambda s: datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # noqa: E731
    return claim[0][1], stamp(claim[0][0]), stamp(release[0][0])


@pytest.mark.slow
def test_ci_workflow_gpu_jobs_name_their_slot_and_never_share_one(ci_finished, tmp_path):
    """The shared ci run ran with --resources gpu=2 over EDITLAB_GPU_SLOTS=2 (conftest): every job that held
    a gpu token logged the one slot it claimed (SME folds and NMT jobs included), no two jobs overlapping
    in time held the same slot, and every other job logged that it runs on CPU."""
    from conftest import CI_GPUS, copy_workflow

    jobs = planned_jobs(copy_workflow(tmp_path / "wf"), CI_GPUS)
    gpu_logs = sorted(log for log, tokens in jobs.items() if tokens)
    assert {log.split("/")[2] for log in gpu_logs} == {"base", "sme", "nmt"} and len(gpu_logs) >= 30
    spans: dict[str, list[tuple[float, float]]] = {}
    everything = []
    for log, tokens in jobs.items():
        text = (ci_finished / log).read_text()
        assert re.search(rf"editlab.job INFO job: stage \w+, rule \w+, \d+ thread\(s\), {tokens} gpu token\(s\)", text), log
        if tokens:
            slot, start, end = held_span(text, log)
            spans.setdefault(slot, []).append((start, end))
            everything.append((start, end))
        else:
            assert "running on CPU (no gpu tokens for this job)" in text and "claimed GPU slot" not in text, log
    assert set(spans) == {"0", "1"}, "both slots were used"
    for slot, intervals in spans.items():
        assert not overlaps(intervals), f"slot {slot} held by two ci jobs at once: {overlaps(intervals)}"
    assert overlaps(everything), "no two gpu jobs ever ran at once: the check above would prove nothing"


def test_slurm_profile_gives_every_gpu_rule_a_runtime():
    """Every rule that asks for a GPU (SME folds, base models, NMT jobs, back-translation) has its own
    SLURM request with a runtime, so that no GPU job falls back to the 60-minute default."""
    import re

    import yaml
    from test_stages import rule_blocks

    slurm = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    gpu_rules = {name for name, text in rule_blocks().items() if re.search(r"^\s*gpu=1,", text, flags=re.M)}
    gpu_rules |= {"nmt_edit_rank_one", "backtranslate_zsre"}   # `use rule ... with:` inherits the resources
    assert {"sme_tpatcher", "sme_baseline", "base_model", "backtranslate_fever", "nmt_edit"} <= gpu_rules
    for name in sorted(gpu_rules):
        request = slurm["set-resources"].get(name)
        assert request and request["gpu"] == 1 and request["runtime"] > 0, f"profiles/slurm: no request for {name}"
