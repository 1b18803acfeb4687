"""editlab.data.gdrive in process, against a loopback server: retries, refusals, the per-file settings.
(The download_cao rule itself runs through Snakemake in test_data_rules.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from data_fixtures import ServerState, http_server

from editlab.config import load_config, validate_config
from editlab.data.download import DownloadConfig
from editlab.data.gdrive import MEND_FOLDER_ID, CaoDownloadConfig, download_settings, gdown_download
from editlab.errors import ConfigError, DataFormatError, EditlabError

REPO = Path(__file__).resolve().parents[1]
FAST = DownloadConfig(retries=2, timeout_s=5, backoff_s=0)


def test_transient_errors_are_retried_and_the_file_verified(tmp_path):
    body = b'{"id": "1"}\n' * 500
    state = ServerState(files={"/uc?id=x": body}, fail_remaining={"/uc?id=x": 2})
    with http_server(state) as base:
        sha = gdown_download(f"{base}/uc?id=x", tmp_path / "f.jsonl", hashlib.sha256(body).hexdigest(), FAST)
    assert sha == hashlib.sha256(body).hexdigest() and (tmp_path / "f.jsonl").read_bytes() == body
    assert len(state.requests) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["f.jsonl"]


def test_a_server_that_keeps_failing_is_one_line_and_nothing_is_written(tmp_path):
    state = ServerState(files={"/uc?id=x": b"x"}, fail_remaining={"/uc?id=x": 10})
    with http_server(state) as base, pytest.raises(EditlabError, match=r"failed after 3 attempts \(503"):
        gdown_download(f"{base}/uc?id=x", tmp_path / "f.jsonl", None, FAST)
    assert not (tmp_path / "f.jsonl").exists()


def test_not_found_fails_at_once(tmp_path):
    state = ServerState(files={})
    with http_server(state) as base, pytest.raises(EditlabError, match=r"download of .*/uc\?id=nope failed: 404"):
        gdown_download(f"{base}/uc?id=nope", tmp_path / "f.jsonl", None, FAST)
    assert len(state.requests) == 1 and not list(tmp_path.iterdir())


def test_wrong_checksum_removes_the_part_file(tmp_path):
    state = ServerState(files={"/uc?id=x": b"abc\n"})
    with http_server(state) as base, pytest.raises(DataFormatError, match="checksum mismatch: expected sha256 f{64}"):
        gdown_download(f"{base}/uc?id=x", tmp_path / "f.jsonl", "f" * 64, FAST)
    assert not list(tmp_path.iterdir())


def test_settings_of_one_file_and_config_refusals():
    data = {"cao": {"sha256": {"fever_dev": "a" * 64, "zsre_dev": "b" * 64},
                    "download": {"ids": {"fever_dev": "F", "zsre_dev": "Z"}}}, "download": {"retries": 1}}
    assert download_settings(data, "fever_dev") == {
        "cao": {"download": {"ids": {"fever_dev": "F"}}, "sha256": {"fever_dev": "a" * 64}},
        "download": {"retries": 1}}
    assert CaoDownloadConfig.from_config(None).folder_id == MEND_FOLDER_ID
    with pytest.raises(ConfigError, match=r"'data.cao.download.url': .* has no '\{id\}' placeholder"):
        CaoDownloadConfig.from_config({"url": "https://example.org/file"})
    with pytest.raises(ConfigError, match=r"'data.cao.download.ids': unknown file key\(s\) \['fever_test'\]"):
        CaoDownloadConfig.from_config({"ids": {"fever_test": "x"}})
    paper = load_config(REPO / "config/paper.yaml")
    validate_config(paper)
    paper["data"]["cao"]["download"]["url"] = "https://drive.google.com/uc"
    with pytest.raises(ConfigError, match="data.cao.download.url"):
        validate_config(paper)
