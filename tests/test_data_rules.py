"""The data rules of workflow/rules/download.smk run by Snakemake on offline fixtures, and the paper
profile's full dry-run DAG."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow
from data_fixtures import ServerState, fever_record, http_server, tiny_marian, write_jsonl, zsre_record

from editlab.config import load_config
from editlab.data.readers import read_cao_fever, read_cao_zsre

REPO = Path(__file__).resolve().parents[1]
KILT_NAMES = ["fever-train-kilt.jsonl", "fever-dev-kilt.jsonl", "structured_zeroshot-train-kilt.jsonl",
              "structured_zeroshot-dev-kilt.jsonl"]
TARGETS = ["results/t/data/fever/fever-train-kilt.jsonl", "results/t/data/fever/fever-dev-kilt.jsonl",
           "results/t/data/zsre/structured_zeroshot-train-new_annotated_final.jsonl",
           "results/t/data/zsre/structured_zeroshot-dev-new_annotated_final.jsonl"]


def snakemake(workdir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["PYTHONPATH"] = str(workdir / "src")
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=1800)
    if ok:
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return proc


@pytest.mark.slow
def test_kilt_download_and_backtranslate_rules(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    kilt = {"fever-train-kilt.jsonl": [fever_record(i, False) for i in range(6)],
            "fever-dev-kilt.jsonl": [fever_record(i, False) for i in range(6, 9)],
            "structured_zeroshot-train-kilt.jsonl": [zsre_record(i, False) for i in range(6)],
            "structured_zeroshot-dev-kilt.jsonl": [zsre_record(i, False) for i in range(6, 9)]}
    state = ServerState(files={f"/{n}": write_jsonl(tmp_path / "kilt" / n, rows) for n, rows in kilt.items()})
    state.cut_remaining["/fever-train-kilt.jsonl"] = 1  # the first run is interrupted on this file
    en_de, de_en = tiny_marian(tmp_path / "en-de", 1), tiny_marian(tmp_path / "de-en", 2)
    with http_server(state) as base:
        files = {n: {"url": f"{base}/{n}", "sha256": hashlib.sha256(state.files[f"/{n}"]).hexdigest()}
                 for n in KILT_NAMES}
        override = {"extends": "config.yaml", "name": "t", "threads": 1, "data": {
            "source": "kilt", "kilt": {"files": files}, "download": {"retries": 0, "timeout_s": 5, "backoff_s": 0},
            "backtranslate": {"forward_model": str(en_de), "backward_model": str(de_en), "batch_size": 4,
                              "max_length": 10}}}
        (wf / "t.yaml").write_text(yaml.safe_dump(override))
        # two of the four files keep it quick: both rules, both tasks, the interrupted download
        args = [TARGETS[0], TARGETS[3], "--cores", "2", "--resources", "gpu=0", "--keep-going", "--configfile", "t.yaml"]
        first = snakemake(wf, *args, ok=False)
        assert first.returncode != 0
        part = wf / "results/t/data/kilt/fever-train-kilt.jsonl.part"
        kept = part.stat().st_size if part.exists() else 0
        assert 0 < kept < len(state.files["/fever-train-kilt.jsonl"])
        assert "a rerun resumes" in (wf / "logs/t/data/download_fever-train-kilt.jsonl.log").read_text()
        snakemake(wf, *args)  # the rerun completes the interrupted download
        # the rerun asked only for the missing bytes
        assert ("/fever-train-kilt.jsonl", f"bytes={kept}-") in state.requests
    assert (wf / "results/t/data/kilt/fever-train-kilt.jsonl").read_bytes() == state.files["/fever-train-kilt.jsonl"]
    fever = read_cao_fever(wf / TARGETS[0], require_rephrases=True)
    zsre = read_cao_zsre(wf / TARGETS[3], require_rephrases=True)
    assert [e.id for e in fever] == [r["id"] for r in kilt["fever-train-kilt.jsonl"]]
    assert [e.id for e in zsre] == [r["id"] for r in kilt["structured_zeroshot-dev-kilt.jsonl"]]
    assert all(e.rephrases and e.input not in e.rephrases for e in fever + zsre)


@pytest.mark.slow
def test_kilt_download_rule_checksum_mismatch(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    state = ServerState(files={"/fever-dev-kilt.jsonl": write_jsonl(tmp_path / "f.jsonl", [fever_record(1, False)])})
    with http_server(state) as base:
        files = {n: {"url": f"{base}/{n}", "sha256": "f" * 64} for n in KILT_NAMES}
        (wf / "t.yaml").write_text(yaml.safe_dump({"extends": "config.yaml", "name": "t", "data": {
            "source": "kilt", "kilt": {"files": files}, "download": {"retries": 0}}}))
        proc = snakemake(wf, "results/t/data/kilt/fever-dev-kilt.jsonl", "--cores", "1", "--configfile", "t.yaml",
                         ok=False)
    assert proc.returncode != 0
    assert re.search(r"fever-dev-kilt.jsonl: checksum mismatch: expected sha256 f{64}, got [0-9a-f]{64}", proc.stderr)
    assert not list((wf / "results/t/data/kilt").glob("fever-dev-kilt.jsonl*"))


@pytest.mark.slow
def test_cao_ingest_rule_from_local_zip(tmp_path):
    import zipfile

    wf = copy_workflow(tmp_path / "wf")
    archive = tmp_path / "data.zip"
    rows = {TARGETS[0]: [fever_record(i) for i in range(5)], TARGETS[1]: [fever_record(i) for i in range(5, 8)],
            TARGETS[2]: [zsre_record(i) for i in range(5)], TARGETS[3]: [zsre_record(i) for i in range(5, 8)]}
    blobs = {}
    with zipfile.ZipFile(archive, "w") as zf:
        for target, recs in rows.items():
            blobs[target] = write_jsonl(tmp_path / "tmp.jsonl", recs)
            zf.writestr(f"data/{Path(target).parent.name}/{Path(target).name}", blobs[target])
    override = {"extends": "config.yaml", "name": "t", "data": {"source": "cao", "cao": {
        "path": str(archive), "archive_sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}}}
    (wf / "t.yaml").write_text(yaml.safe_dump(override))
    snakemake(wf, *TARGETS, "--cores", "1", "--configfile", "t.yaml")
    assert all((wf / t).read_bytes() == blobs[t] for t in TARGETS)


def job_stats(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


@pytest.mark.parametrize("source", ["cao", "cao_zip", "kilt"])
def test_paper_profile_dry_run_shows_the_full_dag(tmp_path, source):
    wf = copy_workflow(tmp_path / "wf")
    data = {"cao": "{'source': 'cao'}", "kilt": "{'source': 'kilt'}",
            "cao_zip": "{'source': 'cao', 'cao': {'path': 'data/paper/data.zip'}}"}[source]
    # the archive is an input of ingest_cao: the dry run needs it to exist (an empty stand-in will do)
    (wf / "data/paper").mkdir(parents=True)
    (wf / "data/paper/data.zip").write_bytes(b"")
    proc = snakemake(wf, "-n", "--configfile", "config/paper.yaml", "--config", f"data={data}")
    stats = job_stats(proc.stdout)
    paper = load_config(REPO / "config/paper.yaml")
    n_folds = sum(paper["splits"][task]["n_folds"] for task in ("fever", "zsre"))
    assert n_folds == 40 and stats["fold"] == n_folds
    assert stats["splits"] == 2 and stats["base_model"] == 2
    # bert-base-uncased, facebook/bart-base, the NMT checkpoint and its dataset; kilt adds the two translators
    assert stats["prefetch_hub"] == (6 if source == "kilt" else 4)
    if source == "cao":   # data.cao.path unset: the MEND release from Google Drive, no manual step
        assert stats["ingest_cao"] == 1 and stats["download_cao"] == 4 and "download_kilt" not in stats
    elif source == "cao_zip":
        assert stats["ingest_cao"] == 1 and "download_cao" not in stats and "download_kilt" not in stats
    else:
        assert stats["download_kilt"] == 4 and stats["backtranslate_fever"] == 2 and stats["backtranslate_zsre"] == 2
    assert "mini_data" not in stats
    assert stats["total"] == sum(v for k, v in stats.items() if k != "total")


CAO_KEYS = ["fever_train", "fever_dev", "zsre_train", "zsre_dev"]


def cao_release(tmp_path: Path) -> dict[str, bytes]:
    """The four release files in the Cao format, keyed like editlab.layout.CAO_FILES."""
    rows = {"fever_train": [fever_record(i) for i in range(5)], "fever_dev": [fever_record(i) for i in range(5, 8)],
            "zsre_train": [zsre_record(i) for i in range(5)], "zsre_dev": [zsre_record(i) for i in range(5, 8)]}
    return {key: write_jsonl(tmp_path / f"{key}.jsonl", recs) for key, recs in rows.items()}


def cao_download_profile(base: str, sha256: dict[str, str]) -> dict:
    """The paper profile's cao route (data.cao.path unset) with the Drive URL template on the loopback server."""
    return {"extends": "config.yaml", "name": "t", "data": {
        "source": "cao", "cao": {"path": None, "sha256": sha256, "download": {
            "url": f"{base}/uc?id={{id}}", "folder_id": None, "ids": {k: f"id-{k}" for k in CAO_KEYS}}},
        "download": {"retries": 2, "timeout_s": 5, "backoff_s": 0}}}


@pytest.mark.slow
def test_cao_download_rule_fetches_the_release_through_gdown(tmp_path):
    """The real download_cao rule (gdown) against a loopback 'Drive': pinned ids and hashes, one transient
    503 retried, the files ingested into the data layout, the hash used logged and recorded."""
    wf = copy_workflow(tmp_path / "wf")
    blobs = cao_release(tmp_path)
    state = ServerState(files={f"/uc?id=id-{k}": b for k, b in blobs.items()},
                        fail_remaining={"/uc?id=id-zsre_dev": 1})   # the server fails the first request
    sha = {k: hashlib.sha256(b).hexdigest() for k, b in blobs.items()}
    with http_server(state) as base:
        (wf / "t.yaml").write_text(yaml.safe_dump(cao_download_profile(base, sha)))
        dry = snakemake(wf, "-n", *TARGETS, "--configfile", "t.yaml")
        assert job_stats(dry.stdout)["download_cao"] == 4 and job_stats(dry.stdout)["ingest_cao"] == 1
        snakemake(wf, *TARGETS, "--cores", "1", "--configfile", "t.yaml")
    assert [p for p, _ in state.requests].count("/uc?id=id-zsre_dev") == 2   # the 503, then the file
    for target, key in zip(TARGETS, CAO_KEYS):
        assert (wf / target).read_bytes() == blobs[key]
    name = "structured_zeroshot-dev-new_annotated_final.jsonl"
    log = (wf / f"logs/t/data/download_cao_{name}.log").read_text()
    assert "retry 1/2" in log and f"sha256 {sha['zsre_dev']}" in log
    source = json.loads((wf / f"results/t/data/cao/{name}.source.json").read_text())
    assert source["sha256"] == sha["zsre_dev"] and source["drive_id"] == "id-zsre_dev" and source["sha256_pinned"]


@pytest.mark.slow
def test_cao_download_rule_refuses_a_wrong_checksum(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    blobs = cao_release(tmp_path)
    state = ServerState(files={f"/uc?id=id-{k}": b for k, b in blobs.items()})
    sha = {k: hashlib.sha256(b).hexdigest() for k, b in blobs.items()} | {"fever_dev": "f" * 64}
    with http_server(state) as base:
        (wf / "t.yaml").write_text(yaml.safe_dump(cao_download_profile(base, sha)))
        proc = snakemake(wf, "results/t/data/cao/fever-dev-kilt.jsonl", "--cores", "1", "--configfile", "t.yaml",
                         ok=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "checksum mismatch" in line]
    assert len(lines) == 1 and re.search(r"uc\?id=id-fever_dev: checksum mismatch: expected sha256 f{64}, "
                                         r"got [0-9a-f]{64}", lines[0])
    assert not list((wf / "results/t/data/cao").glob("fever-dev-kilt.jsonl*"))   # nothing written
