"""Config schema: every preset validates; typos and wrong types are refused naming the key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_workflow

from editlab.config import deep_merge, load_config, load_yaml, resolve_config, resolve_profile, validate_config
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


# --- profile isolation (docs/design.md §12) ------------------------------------------------------------------

def _leaves(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_ci_profile_is_exactly_mini_with_its_values_over_it():
    mini = load_yaml(REPO / "config.yaml")
    ci = load_yaml(REPO / "config/ci.yaml")
    assert ci.pop("extends") == "../config.yaml"
    assert resolve_config([REPO / "config/ci.yaml"]) == deep_merge(mini, ci)
    assert resolve_config([]) == mini == load_config()


def test_paper_profile_is_its_own_file_and_no_mini_value():
    paper_file = load_yaml(REPO / "config/paper.yaml")
    paper = load_config(REPO / "config/paper.yaml")
    assert "extends" not in paper_file and paper == paper_file
    paper_leaves = dict(_leaves(paper))
    mini_only = [k for k, _ in _leaves(load_yaml(REPO / "config.yaml")) if k not in paper_leaves]
    # the values the issue found leaking from config.yaml into the paper run
    for leaked in ("base.fever.train.selection", "sme.cached_dropout_draws", "nmt.toy.n_train", "nmt.model.arch.d_model"):
        assert leaked in mini_only and leaked not in paper_leaves


def test_overlay_files_and_overrides_apply_in_order(tmp_path):
    (tmp_path / "over.yaml").write_text("report: {dpi: 77}\nsme: {ft: {max_steps: 3}}\n")
    cfg = resolve_config([REPO / "config/ci.yaml", tmp_path / "over.yaml"], overrides={"sme": {"ft": {"lr": 0.5}}})
    assert cfg["report"]["dpi"] == 77 and cfg["sme"]["ft"] == {"max_steps": 3, "lr": 0.5, "copies": 8, "weight_decay": 0.0}
    assert cfg["name"] == "ci" and cfg["splits"]["fever"]["n_folds"] == 2


def test_extends_is_relative_to_the_file_and_cycles_are_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "base.yaml").write_text("name: a\nseed: 1\n")
    (tmp_path / "sub/child.yaml").write_text("extends: ../base.yaml\nseed: 2\n")
    assert resolve_profile(tmp_path / "sub/child.yaml") == {"name": "a", "seed": 2}
    (tmp_path / "x.yaml").write_text("extends: y.yaml\n")
    (tmp_path / "y.yaml").write_text("extends: x.yaml\n")
    with pytest.raises(ConfigError, match=r"x.yaml: 'extends' cycle"):
        resolve_profile(tmp_path / "x.yaml")
    (tmp_path / "z.yaml").write_text("extends: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"missing.yaml: config file not found"):
        resolve_profile(tmp_path / "z.yaml")


def test_a_profile_without_extends_does_not_get_mini_values(tmp_path):
    (tmp_path / "part.yaml").write_text("name: part\ndata: {source: mini}\n")
    with pytest.raises(ConfigError, match=r"config key '<top>': 'seed' is a required property"):
        load_config(tmp_path / "part.yaml")


@pytest.mark.parametrize("profile", ["config/paper.yaml", None])  # ci: every workflow test runs it
def test_snakemake_runs_on_the_resolved_profile(tmp_path, profile):
    """The real Snakefile: the `config` its rules read is resolve_config's, with --config applied."""
    wf = copy_workflow(tmp_path / "wf")
    (wf / "probe.smk").write_text('include: "Snakefile"\n\n\nimport json as _json\n\n'
                                  'Path("resolved.json").write_text(_json.dumps(config, sort_keys=True))\n')
    args = ["--configfile", profile] if profile else []
    cmd = [sys.executable, "-m", "snakemake", "-s", "probe.smk", "--list-rules", *args, "--config", "seed=7"]
    proc = subprocess.run(cmd, cwd=wf, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads((wf / "resolved.json").read_text())
    want = resolve_config([wf / profile] if profile else [], overrides={"seed": 7}, default=wf / "config.yaml")
    assert got == json.loads(json.dumps(want, sort_keys=True)) and got["seed"] == 7
    if profile == "config/paper.yaml":
        assert "selection" not in got["base"]["fever"]["train"] and "toy" not in got["nmt"]
