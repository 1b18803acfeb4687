"""Config schema: every preset validates; typos and wrong types are refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from editlab.config import load_config, validate_config
from editlab.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("preset", [None, "config/ci.yaml", "config/paper.yaml"])
def test_presets_validate(preset):
    cfg = load_config(REPO / preset) if preset else load_config()
    assert cfg["name"] in {"mini", "ci", "paper"}


def test_misspelled_key_is_named():
    cfg = load_config()
    cfg["base"]["fever"]["train"]["epoch"] = 3
    with pytest.raises(ConfigError, match=r"config key 'base.fever.train.epoch': unknown key \(did you mean 'epochs'\?\)"):
        validate_config(cfg)


def test_top_level_typo():
    cfg = load_config()
    cfg["sede"] = 1
    with pytest.raises(ConfigError, match=r"'sede': unknown key \(did you mean 'seed'\?\)"):
        validate_config(cfg)


def test_wrong_type_is_named():
    cfg = load_config()
    cfg["splits"]["zsre"]["n_folds"] = "four"
    with pytest.raises(ConfigError, match=r"config key 'splits.zsre.n_folds': 'four' is not of type 'integer'"):
        validate_config(cfg)


def test_bad_enum_is_named():
    cfg = load_config()
    cfg["data"]["source"] = "hub"
    with pytest.raises(ConfigError, match=r"config key 'data.source'"):
        validate_config(cfg)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
