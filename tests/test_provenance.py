"""editlab.provenance: the record every result file carries, and that it never fails a job."""

from __future__ import annotations

import json
import subprocess

from editlab.config import config_hash
from editlab.provenance import git_commit, provenance, write_table_sidecar


def test_record_names_config_seed_code_packages_device_protocol():
    config = {"name": "ci", "seed": 7, "sme": {"path": "cached"}}
    prov = provenance(config, device="cpu", protocol="SR:immediate")
    assert prov["config_hash"] == config_hash(config) and prov["seed"] == 7 and prov["profile"] == "ci"
    assert set(prov["versions"]) >= {"python", "torch", "transformers", "editlab"}
    assert "unknown" not in (prov["versions"]["torch"], prov["versions"]["editlab"])
    assert prov["device"] == "cpu" and prov["protocol"] == "SR:immediate" and prov["git_commit"]
    assert "protocol" not in provenance(config)
    changed = provenance({**config, "seed": 8})
    assert changed["config_hash"] != prov["config_hash"]


def test_git_commit_of_a_checkout_and_unknown_elsewhere(tmp_path, monkeypatch):
    assert git_commit(tmp_path) == "unknown"                      # not a checkout
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "f.txt").write_text("a\n")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert git_commit(repo) == head
    (repo / "f.txt").write_text("b\n")
    assert git_commit(repo) == head + "-dirty"
    sub = repo / "copy"                                           # a workflow copy inside another repository
    sub.mkdir()
    assert git_commit(sub) == "unknown"
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))          # no git at all: still no failure
    assert git_commit(repo) == "unknown"


def test_table_sidecar_lists_the_protocols(tmp_path):
    table = tmp_path / "sme.csv"
    table.write_text("task,method,protocol,metric,mean\nfever,ft,b,SR,1\nzsre,ft,a,SR,0\n")
    write_table_sidecar(tmp_path / "sme.provenance.json", table, {"name": "ci", "seed": 0})
    side = json.loads((tmp_path / "sme.provenance.json").read_text())
    assert side["table"] == "sme.csv" and side["provenance"]["protocol"] == "a;b"


def test_record_names_data_hashes_hub_models_and_the_kilt_note(tmp_path):
    import hashlib

    from editlab.provenance import KILT_NOTE

    data = tmp_path / "train.jsonl"
    data.write_text('{"id": 1}\n')
    base = {"repo_id": "bert-base-uncased", "revision": None, "commit": "c" * 40}
    prov = provenance({"name": "p", "seed": 0, "data": {"source": "cao"}}, data_files={"train_data": data},
                      models={"base": base, "other": None})
    assert prov["data"] == {"source": "cao", "sha256": {"train_data": hashlib.sha256(data.read_bytes()).hexdigest()}}
    assert prov["models"] == {"base": base, "other": {"source": "scratch"}}
    kilt = provenance({"name": "p", "seed": 0, "data": {"source": "kilt"}})
    assert kilt["data"]["note"] == KILT_NOTE and "3,724" in KILT_NOTE and "27,644" in KILT_NOTE
    assert "4oYUGeGBPm" in KILT_NOTE and "MEND" in KILT_NOTE
    # a table sidecar of a kilt run carries the note too
    table = tmp_path / "sme.csv"
    table.write_text("task,method,protocol\nfever,ft,a\n")
    write_table_sidecar(tmp_path / "side.json", table, {"name": "p", "seed": 0, "data": {"source": "kilt"}})
    assert json.loads((tmp_path / "side.json").read_text())["provenance"]["data"]["note"] == KILT_NOTE
    missing = provenance({"name": "p", "seed": 0}, data_files={"x": tmp_path / "gone.jsonl"})
    assert missing["data"]["sha256"] == {"x": "unknown"}   # provenance never fails a job


def test_fold_summary_names_its_data_files_and_base_checkpoint(tmp_path):
    """run_stream records the SHA-256 of the data files it read and the base model's hub record."""
    import hashlib

    from test_sme import _config, _write_world

    from editlab.hub import write_record
    from editlab.sme.runner import run_stream

    files = _write_world(tmp_path, "fever")
    record = {"repo_id": "bert-base-uncased", "revision": None, "commit": "c" * 40}
    write_record(files["base_model"], record)   # as the base-model job writes it for a hub checkpoint
    summary = run_stream("fever", "ft", _config(), files, tmp_path / "out", "fold0")
    prov = summary["provenance"]
    assert prov["models"] == {"base": record}
    assert prov["data"]["sha256"] == {k: hashlib.sha256(open(files[k], "rb").read()).hexdigest()
                                      for k in ("train_data", "dev_data")}
