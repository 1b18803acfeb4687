"""editlab.hub and the prefetch_hub rule, offline: a local model directory in place of a hub id, and a
Hugging Face cache laid out on disk (two commits of one repo) read with the hub offline."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow, run_snakemake

from editlab.hub import HUB_RECORD, HubItem, directory_sha256, prefetch, read_record
from editlab.hub_items import hub_items
from editlab.runtime import HUB_OFFLINE_VARIABLES, hub_offline

REPO = Path(__file__).resolve().parents[1]
COMMITS = ("a" * 40, "b" * 40)   # an older commit and the one refs/main points at


def tiny_bert_dir(directory: Path) -> Path:
    """A tiny BERT classifier with its tokenizer, saved with save_pretrained like a hub checkpoint."""
    from editlab.models.build import tiny_bert
    from editlab.models.tokenizer import train_bert_tokenizer

    tok = train_bert_tokenizer(["the city of rome is in italy", "paris is a city in france"])
    model = tiny_bert({"hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64}, len(tok))
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def hf_cache(root: Path, repo_id: str, source: Path) -> Path:
    """A hub cache holding `repo_id` at both COMMITS (the layout huggingface_hub writes), main = the second."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    for commit in COMMITS:
        snap = repo / "snapshots" / commit
        snap.mkdir(parents=True)
        for f in source.iterdir():
            (snap / f.name).write_bytes(f.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMITS[1])
    return root


def test_local_directory_is_recorded_not_fetched(tmp_path):
    model = tiny_bert_dir(tmp_path / "bert")
    record = prefetch(HubItem("base_fever", str(model)))
    assert record["local"] and record["path"] == str(model.resolve()) and record["commit"] is None
    assert record["sha256"] == directory_sha256(model)
    (model / "config.json").write_text((model / "config.json").read_text() + " ")
    assert directory_sha256(model) != record["sha256"]   # the hash sees a changed file


def test_hub_items_of_the_paper_profile():
    from editlab.config import load_config

    paper = load_config(REPO / "config/paper.yaml")
    items = hub_items(paper)
    assert {k: v.repo_id for k, v in items.items()} == {
        "base_fever": "bert-base-uncased", "base_zsre": "facebook/bart-base",
        "nmt_model": "Helsinki-NLP/opus-mt-en-de", "nmt_data": "wmt/wmt14"}
    assert items["nmt_data"].repo_type == "dataset" and items["nmt_data"].config_name == "de-en"
    kilt = hub_items({**paper, "data": {**paper["data"], "source": "kilt"}})
    assert {"backtranslate_forward", "backtranslate_backward"} <= set(kilt)


def test_hub_offline_sets_the_variables():
    env: dict[str, str] = {}
    hub_offline(env)
    assert all(env[name] == "1" for name in HUB_OFFLINE_VARIABLES)


PROBE = """
import json, sys
from editlab.hub import HubItem, model_record, prefetch
from editlab.models.build import load_hub_model
revision = sys.argv[1] or None
model, _ = load_hub_model("fever", "editlab-test/tiny-bert", 0.0, revision)
print(json.dumps({"record": model_record(model, "editlab-test/tiny-bert", revision),
                  "prefetch": prefetch(HubItem("base_fever", "editlab-test/tiny-bert", revision))}))
"""


@pytest.mark.parametrize("revision", [None, COMMITS[0]])
def test_commit_loaded_from_the_hub_cache_is_recorded(tmp_path, revision):
    cache = hf_cache(tmp_path / "hub", "editlab-test/tiny-bert", tiny_bert_dir(tmp_path / "bert"))
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-c", PROBE, revision or ""], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = revision or COMMITS[1]   # null = latest (refs/main), recorded as the commit it resolved to
    assert out["record"] == {"repo_id": "editlab-test/tiny-bert", "revision": revision, "commit": expected}
    assert out["prefetch"]["commit"] == expected and not out["prefetch"]["local"]
    assert Path(out["prefetch"]["path"]).name == expected


@pytest.mark.slow
def test_prefetch_rule_and_offline_gpu_job_record_a_local_model(tmp_path):
    """prefetch_hub for a local directory is a no-op that records path and hash; the base_model GPU job
    runs with the hub offline, and its provenance names that model and the data files' hashes."""
    wf = copy_workflow(tmp_path / "wf")
    model = tiny_bert_dir(tmp_path / "bert")
    (wf / "t.yaml").write_text(yaml.safe_dump({
        "extends": "config/ci.yaml", "name": "t",
        "base": {"fever": {"model": {"source": "hub", "hub_id": str(model)}, "train": {"epochs": 1}}}}))
    run_snakemake(wf, "--configfile", "t.yaml", "--keep-going", "results/t/base/fever/metrics.json", gpus=1,
                  env_extra={"EDITLAB_GPU_SLOTS": "1", "EDITLAB_GPU_LOCK_DIR": str(tmp_path / "locks")})
    marker = json.loads((wf / "results/t/hub/base_fever.json").read_text())
    assert marker["local"] and marker["sha256"] == directory_sha256(model) and marker["repo_id"] == str(model)
    assert "nothing to fetch" in (wf / "logs/t/hub/base_fever.log").read_text()
    assert "hub offline (HF_HUB_OFFLINE/" in (wf / "logs/t/base/fever.log").read_text()
    prov = json.loads((wf / "results/t/base/fever/metrics.json").read_text())["provenance"]
    assert prov["models"]["base"]["sha256"] == marker["sha256"] and prov["models"]["base"]["commit"] is None
    train = wf / "results/t/data/fever/fever-train-kilt.jsonl"
    assert prov["data"] == {"source": "mini", "sha256": {
        "train_data": hashlib.sha256(train.read_bytes()).hexdigest(),
        "dev_data": hashlib.sha256((wf / "results/t/data/fever/fever-dev-kilt.jsonl").read_bytes()).hexdigest()}}
    # the fine-tuned model directory carries the checkpoint's record for the editing stages' provenance
    assert read_record(wf / "results/t/base/fever/model") == prov["models"]["base"]
    assert (wf / "results/t/base/fever/model" / HUB_RECORD).is_file()


def test_nmt_hub_model_directory_carries_its_record(tmp_path):
    from data_fixtures import tiny_marian

    from editlab.nmt.model import download_hub_model, load_model

    source = tiny_marian(tmp_path / "marian", 1)
    download_hub_model(str(source), tmp_path / "model")
    record = read_record(tmp_path / "model")
    assert record["repo_id"] == str(source) and record["local"] and record["sha256"] == directory_sha256(source)
    load_model(tmp_path / "model")   # the copied directory loads like the source
