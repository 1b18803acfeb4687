"""Paper-profile data pipeline on offline fixtures: downloads from a local HTTP server, ingestion of a
data.zip / release folder, back-translation with tiny random Marian models."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
import torch
from data_fixtures import ServerState, fever_record, http_server, tiny_marian, write_jsonl, zsre_record

from editlab.data.backtranslate import BacktranslateConfig, add_rephrases, load_translator, rephrases_from, translate
from editlab.data.download import DownloadConfig, download, part_path
from editlab.data.ingest import CAO_FILES, IngestConfig, ingest
from editlab.data.readers import read_task_file
from editlab.errors import ConfigError, DataFormatError, EditlabError

FAST = DownloadConfig(retries=0, timeout_s=5, backoff_s=0.0)


@pytest.fixture
def served(tmp_path):
    data = write_jsonl(tmp_path / "src.jsonl", [fever_record(i) for i in range(200)])
    state = ServerState(files={"/fever-train-kilt.jsonl": data})
    with http_server(state) as base:
        yield state, base, data


def test_download_verifies_and_renames(served, tmp_path):
    state, base, data = served
    dest = tmp_path / "out" / "fever-train-kilt.jsonl"
    digest = download(f"{base}/fever-train-kilt.jsonl", dest, hashlib.sha256(data).hexdigest(), FAST)
    assert dest.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()
    assert not part_path(dest).exists()


def test_checksum_mismatch_is_clear_and_removes_partial_file(served, tmp_path):
    _, base, _ = served
    dest = tmp_path / "fever-train-kilt.jsonl"
    with pytest.raises(DataFormatError, match="checksum mismatch: expected sha256 0{64}") as err:
        download(f"{base}/fever-train-kilt.jsonl", dest, "0" * 64, FAST)
    assert "fever-train-kilt.jsonl" in str(err.value) and "removed" in str(err.value)
    assert not dest.exists() and not part_path(dest).exists()


def test_interrupted_download_is_resumed_by_a_rerun(served, tmp_path):
    state, base, data = served
    state.cut_remaining["/fever-train-kilt.jsonl"] = 1
    dest = tmp_path / "fever-train-kilt.jsonl"
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(EditlabError, match="a rerun resumes"):
        download(f"{base}/fever-train-kilt.jsonl", dest, sha, FAST)
    kept = part_path(dest).stat().st_size
    assert 0 < kept < len(data) and not dest.exists()
    download(f"{base}/fever-train-kilt.jsonl", dest, sha, FAST)  # the rerun
    assert dest.read_bytes() == data
    assert state.requests[-1] == ("/fever-train-kilt.jsonl", f"bytes={kept}-")


def test_retries_within_one_run_and_missing_file_fails_at_once(served, tmp_path):
    state, base, data = served
    state.cut_remaining["/fever-train-kilt.jsonl"] = 2
    dest = tmp_path / "f.jsonl"
    download(f"{base}/fever-train-kilt.jsonl", dest, hashlib.sha256(data).hexdigest(),
             DownloadConfig(retries=3, timeout_s=5, backoff_s=0.01))
    assert dest.read_bytes() == data and len(state.requests) == 3
    with pytest.raises(EditlabError, match="404"):
        download(f"{base}/nope.jsonl", tmp_path / "nope.jsonl", None, DownloadConfig(retries=3, backoff_s=0.01))
    assert len(state.requests) == 4  # a 404 is not retried


def write_release(root, nested: str = "data") -> dict[str, bytes]:
    rows = {"fever_train": [fever_record(i) for i in range(20)], "fever_dev": [fever_record(i) for i in range(20, 25)],
            "zsre_train": [zsre_record(i) for i in range(20)], "zsre_dev": [zsre_record(i) for i in range(20, 25)]}
    out = {}
    for key, (task, name) in CAO_FILES.items():
        out[key] = write_jsonl(root / nested / task / name, rows[key])
    return out


def outputs_in(tmp_path):
    return {key: tmp_path / "out" / name for key, (_, name) in CAO_FILES.items()}


def test_ingest_from_release_folder_and_zip(tmp_path):
    release = write_release(tmp_path / "release")
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in release.items()}
    outs = outputs_in(tmp_path)
    assert ingest(IngestConfig(path=str(tmp_path / "release"), sha256=sha), outs) == sha
    assert all(outs[k].read_bytes() == release[k] for k in release)

    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (tmp_path / "release").rglob("*.jsonl"):
            zf.write(path, f"Transformer-Patcher/{path.relative_to(tmp_path / 'release')}")
    outs2 = {k: tmp_path / "out2" / p.name for k, p in outs.items()}
    ingest(IngestConfig(path=str(archive), sha256=sha), outs2)
    assert all(outs2[k].read_bytes() == release[k] for k in release)
    assert len(read_task_file("zsre", outs2["zsre_train"])) == 20


def test_ingest_errors_name_the_problem(tmp_path):
    release = write_release(tmp_path / "release")
    outs = outputs_in(tmp_path)
    with pytest.raises(ConfigError, match="data.cao.path.*does not exist"):
        ingest(IngestConfig(path=str(tmp_path / "missing.zip")), outs)
    with pytest.raises(DataFormatError, match="checksum mismatch for fever_dev"):
        ingest(IngestConfig(path=str(tmp_path / "release"), sha256={"fever_dev": "a" * 64}), outs)
    broken = tmp_path / "release" / "data" / "zsre" / CAO_FILES["zsre_dev"][1]
    broken.write_text(json.dumps({"id": "x", "input": "q"}) + "\n")
    with pytest.raises(DataFormatError, match=f"{broken.name}:1: missing field 'output'"):
        ingest(IngestConfig(path=str(tmp_path / "release")), outs)
    assert not outs["zsre_dev"].exists()  # atomic: nothing half-written
    assert release


def test_rephrases_are_deduplicated_without_the_original():
    assert rephrases_from("who is x", ["who is x", "Who is x?", "who is x ", "", "Who is x?", "x is who"]) == \
        ["Who is x?", "x is who"]


@pytest.fixture(scope="module")
def translators(tmp_path_factory):
    root = tmp_path_factory.mktemp("marian")
    return str(tiny_marian(root / "en-de", seed=1)), str(tiny_marian(root / "de-en", seed=2))


def test_translate_returns_five_beams_per_input(translators):
    torch.set_num_threads(1)
    cfg = BacktranslateConfig(batch_size=2, max_length=10)
    model, tok = load_translator(translators[0], "cpu")
    out = translate(model, tok, ["the capital of france is paris", "who founded the city", "a river"], cfg)
    assert [len(group) for group in out] == [5, 5, 5]
    assert len(set(out[0])) == 5  # beam search: 5 distinct hypotheses


def test_add_rephrases_writes_cao_records_deterministically(translators, tmp_path):
    torch.set_num_threads(1)
    rows = [fever_record(i, rephrases=False) for i in range(4)]
    write_jsonl(tmp_path / "kilt.jsonl", rows)
    cfg = BacktranslateConfig(forward_model=translators[0], backward_model=translators[1], batch_size=3,
                              max_length=10)
    add_rephrases(tmp_path / "kilt.jsonl", tmp_path / "a.jsonl", cfg)
    add_rephrases(tmp_path / "kilt.jsonl", tmp_path / "b.jsonl", cfg)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    examples = read_cao_fever_strict(tmp_path / "a.jsonl")
    for row, ex in zip(rows, examples):
        assert ex.id == row["id"] and ex.input == row["input"]
        assert 0 < len(ex.rephrases) <= 25 and len(set(ex.rephrases)) == len(ex.rephrases)
        assert row["input"] not in ex.rephrases


def read_cao_fever_strict(path):
    from editlab.data.readers import read_cao_fever

    return read_cao_fever(path, require_rephrases=True)


def test_backtranslate_config_rejects_more_returns_than_beams():
    with pytest.raises(ConfigError, match="num_return_sequences"):
        BacktranslateConfig.from_config({"num_beams": 2, "num_return_sequences": 5})
