"""Config schema: every preset validates; typos and wrong types are refused naming the key."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import copy_workflow

from editlab.config import (
    config_fields,
    deep_merge,
    generated_schema,
    load_config,
    load_yaml,
    resolve_config,
    resolve_profile,
    validate_config,
)
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


def test_scale_profile_differs_from_mini_only_in_the_keys_it_sets():
    """config/scale.yaml extends config.yaml: the resolved profile is mini with exactly the file's values over
    it; a leaf differs from mini's only where the file sets it (it restates two long_stream keys for
    clarity), and every leaf it sets has the file's value."""
    mini = load_yaml(REPO / "config.yaml")
    scale_file = load_yaml(REPO / "config/scale.yaml")
    assert scale_file.pop("extends") == "../config.yaml"
    scale = load_config(REPO / "config/scale.yaml")
    assert scale == resolve_config([REPO / "config/scale.yaml"]) == deep_merge(mini, scale_file)
    mini_leaves, scale_leaves = dict(_leaves(mini)), dict(_leaves(scale))
    set_by_file = dict(_leaves(scale_file))
    differing = {k for k in set(mini_leaves) | set(scale_leaves) if mini_leaves.get(k, "<absent>") !=
                 scale_leaves.get(k, "<absent>")}
    assert differing <= set(set_by_file), sorted(differing - set(set_by_file))
    assert all(scale_leaves[k] == v for k, v in set_by_file.items())
    assert set(set_by_file) - differing == {"sme.long_stream.enabled", "sme.long_stream.methods"}
    assert scale["sme"]["long_stream"]["max_edits"]["tpatcher"] >= 2000 and scale["sme"]["methods"] == []


@pytest.mark.slow
def test_scale_profile_runs_only_the_long_streams(tmp_path):
    """Dry run of the real Snakefile on config/scale.yaml: data, splits, base models, the two long streams of
    each task and the scale figure; no fold stream, table or NMT job."""
    wf = copy_workflow(tmp_path / "wf")
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--resources", "gpu=0", "--configfile",
           "config/scale.yaml"]
    proc = subprocess.run(cmd, cwd=wf, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = proc.stdout[proc.stdout.rindex("Job stats:"):]
    jobs = {line.split()[0]: int(line.split()[1]) for line in stats.splitlines()[3:] if len(line.split()) == 2}
    assert jobs == {"mini_data": 1, "splits": 2, "base_model": 2, "fold": 8, "sme_tpatcher": 2, "sme_baseline": 2,
                    "fig_scale_stream": 1, "all": 1, "total": 19}, jobs
    assert "results/scale/sme/zsre/tpatcher/long/summary.json" in proc.stdout


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
    assert cfg["report"]["dpi"] == 77 and cfg["sme"]["ft"] == {"max_steps": 3, "lr": 0.5, "copies": 8, "weight_decay": 0.0, "tune": "ffn",
                                                                   "loss_reduction": "sum"}
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
    with pytest.raises(ConfigError, match=r"config key 'seed': missing"):
        load_config(tmp_path / "part.yaml")


@pytest.mark.slow
def test_snakemake_runs_on_the_resolved_profile(tmp_path):
    """The real Snakefile: the `config` its rules read is resolve_config's, with --config applied (paper: the
    profile snakemake used to merge over config.yaml; ci and mini: every other workflow test runs them)."""
    profile = "config/paper.yaml"
    wf = copy_workflow(tmp_path / "wf")
    (wf / "probe.smk").write_text('include: "Snakefile"\n\n\nimport json as _json\n\n'
                                  'Path("resolved.json").write_text(_json.dumps(config, sort_keys=True))\n')
    cmd = [sys.executable, "-m", "snakemake", "-s", "probe.smk", "--list-rules", "--configfile", profile,
           "--config", "seed=7"]
    proc = subprocess.run(cmd, cwd=wf, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads((wf / "resolved.json").read_text())
    want = resolve_config([wf / profile], overrides={"seed": 7})
    assert got == json.loads(json.dumps(want, sort_keys=True)) and got["seed"] == 7 and got["name"] == "paper"
    assert "selection" not in got["base"]["fever"]["train"] and "toy" not in got["nmt"]


# --- the dataclasses are the single source of the method sections' schema and defaults ----------------------

def _dataclass_nodes(node, where=""):
    """(schema location, 'module:Class', excluded) of every x-dataclass node of a raw schema file."""
    if isinstance(node, dict):
        if "x-dataclass" in node:
            yield where, node["x-dataclass"], node.get("x-exclude", [])
        for key, value in node.items():
            yield from _dataclass_nodes(value, f"{where}/{key}")


def _at(tree, where):
    for part in filter(None, where.split("/")):
        tree = tree[part]
    return tree


DATACLASS_NODES = [(f.name, *n) for f in sorted((REPO / "workflow/schemas").glob("*.schema.yaml"))
                   for n in _dataclass_nodes(load_yaml(f))]


def test_every_method_dataclass_generates_its_schema_section():
    classes = {spec for _, _, spec, _ in DATACLASS_NODES}
    # every hyperparameter dataclass whose config section maps one to one onto its fields
    assert {"editlab.editors.tpatcher:TPatcherParams", "editlab.editors.ft:FTParams", "editlab.editors.ftkl:FTKLParams",
            "editlab.nmt.tpatcher:NmtTPatcherHyperParams", "editlab.rome.hparams:RomeHyperParams",
            "editlab.nmt.finetune:FineTuneHyperParams", "editlab.models.train:TrainConfig", "editlab.data.splits:SplitConfig",
            "editlab.results.settings:ReportSettings", "editlab.data.download:DownloadConfig",
            "editlab.data.backtranslate:BacktranslateConfig", "editlab.nmt.model:MarianArch", "editlab.nmt.model:TrainConfig",
            "editlab.nmt.toy_language:ToyConfig", "editlab.stages.targets:LongStreamSettings"} == classes


@pytest.mark.parametrize(("schema_file", "where", "spec", "exclude"), DATACLASS_NODES,
                         ids=[f"{f}{w}" for f, w, _, _ in DATACLASS_NODES])
def test_schema_properties_are_the_dataclass_fields_with_their_defaults(schema_file, where, spec, exclude):
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    node = _at(generated_schema(schema_file), where)
    fields = config_fields(cls, exclude)
    own = {k: v for k, v in node["properties"].items() if k not in ("fever", "zsre")}  # per-task override keys
    assert set(own) == set(fields) and node["additionalProperties"] is False
    for key, field in fields.items():
        if key in node.get("required", []):
            assert "default" not in own[key] and field.default is dataclasses.MISSING
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        assert own[key]["default"] == (list(default) if isinstance(default, tuple) else default), key
    # the defaults validate against the generated constraints (a default that breaks its own minimum is a bug)
    defaults = {k: v["default"] for k, v in own.items() if "default" in v}
    jsonschema.validate(defaults, {k: v for k, v in node.items() if k != "required"})


def test_hand_written_defaults_agree_with_the_dataclasses_that_read_them():
    from editlab.data.mini_world import WorldConfig
    from editlab.sme.runner import SMEParams

    sme = generated_schema("sme.schema.yaml")["properties"]
    for key, field in {"path": "path", "checkpoint_every": "checkpoint_every", "resume_every": "resume_every",
                       "eval_batch_size": "eval_batch_size", "n_test_shown": "n_test_shown",
                       "cached_dropout_draws": "dropout_draws"}.items():
        assert sme[key]["default"] == SMEParams.__dataclass_fields__[field].default, key
    assert SMEParams.from_config({}, "fever") == SMEParams()
    mini = generated_schema("data.schema.yaml")["properties"]["mini"]["properties"]
    world = WorldConfig.__dataclass_fields__
    assert mini["first_names_per_region"]["default"] == world["first_names_per_region"].default
    assert mini["fever"]["properties"]["p_supports"]["default"] == world["p_supports"].default
    assert mini["fever"]["properties"]["negative_skew"]["default"] == world["fever_negative_skew"].default


def _from_config_calls():
    from editlab.data.backtranslate import BacktranslateConfig
    from editlab.data.download import DownloadConfig
    from editlab.data.ingest import IngestConfig
    from editlab.data.mini_world import WorldConfig
    from editlab.data.splits import SplitConfig
    from editlab.editors.ft import FTParams
    from editlab.editors.ftkl import FTKLParams
    from editlab.editors.tpatcher import TPatcherParams
    from editlab.models.train import TrainConfig
    from editlab.nmt.finetune import FineTuneHyperParams
    from editlab.nmt.model import MarianArch
    from editlab.nmt.model import TrainConfig as NmtTrainConfig
    from editlab.nmt.toy_language import ToyConfig
    from editlab.nmt.tpatcher import NmtTPatcherHyperParams
    from editlab.results.settings import ReportSettings
    from editlab.rome.hparams import RomeHyperParams
    from editlab.sme.runner import SMEParams

    mini = load_config()
    split = mini["splits"]["fever"]
    return {  # where the typo sits -> a call that reads a section with one misspelt key
        "sme.tpatcher.lrr": lambda: TPatcherParams.from_config({"lrr": 1}, "fever"),
        "sme.tpatcher.lrr ": lambda: TPatcherParams.from_config({"zsre": {"lrr": 1}}, "zsre"),
        "sme.ft.lrr": lambda: FTParams.from_config({"lrr": 1}, "fever"),
        "sme.ftkl.lrr": lambda: FTKLParams.from_config({"lrr": 1}, "fever"),
        "nmt.tpatcher.lrr": lambda: NmtTPatcherHyperParams.from_config({"lrr": 1}),
        "nmt.rome.v_lrr": lambda: RomeHyperParams.from_config({"v_lrr": 1}),
        "nmt.ft.lrr": lambda: FineTuneHyperParams.from_config({"lrr": 1}),
        "nmt.toy.n_trian": lambda: ToyConfig.from_config({"n_trian": 1}),
        "nmt.model.arch.d_modle": lambda: MarianArch.from_config({"d_modle": 1}),
        "nmt.model.train.lrr": lambda: NmtTrainConfig.from_config({"lrr": 1}),
        "base.<task>.train.epoch": lambda: TrainConfig.from_config({**mini["base"]["fever"]["train"], "epoch": 1}),
        "splits.<task>.n_fold": lambda: SplitConfig.from_config({**split, "n_fold": 1}),
        "report.dpii": lambda: ReportSettings.from_config({"dpii": 1}),
        "data.download.retry": lambda: DownloadConfig.from_config({"retry": 1}),
        "data.backtranslate.num_beam": lambda: BacktranslateConfig.from_config({"num_beam": 1}),
        "data.mini.n_region": lambda: WorldConfig.from_config({**mini["data"]["mini"], "n_region": 1}, seed=0),
        "data.mini.fever.n_trian": lambda: WorldConfig.from_config(
            {**mini["data"]["mini"], "fever": {"n_train": 10, "n_dev": 10, "n_trian": 1}}, seed=0),
        "data.cao.pth": lambda: IngestConfig.from_config({"source": "cao", "cao": {"pth": "x"}}),
        "sme.checkpoint_evry": lambda: SMEParams.from_config({"checkpoint_evry": 1}, "fever"),
    }


@pytest.mark.parametrize("where", list(_from_config_calls()))
def test_every_from_config_refuses_an_unknown_key_as_the_schema_does(where):
    with pytest.raises(ConfigError) as err:
        _from_config_calls()[where]()
    message = str(err.value)
    assert message.startswith(f"invalid config: config key '{where.strip()}': unknown key"), message
    assert "(did you mean '" in message


def test_schema_and_from_config_give_the_same_message():
    cfg = load_config()
    cfg["sme"]["tpatcher"]["lrr"] = 1.0
    with pytest.raises(ConfigError) as schema_err:
        validate_config(cfg)
    from editlab.editors.tpatcher import TPatcherParams

    with pytest.raises(ConfigError) as code_err:
        TPatcherParams.from_config(cfg["sme"]["tpatcher"], "fever")
    assert str(schema_err.value) == str(code_err.value) == (
        "invalid config: config key 'sme.tpatcher.lrr': unknown key (did you mean 'lr'?)")


def test_paper_hyperparameters_are_the_paper_file_or_the_schema_default():
    """Each method dataclass built from the resolved paper profile holds paper.yaml's value where the file
    sets one and the generated schema's default elsewhere; none holds a mini value the file does not state."""
    from editlab.editors.ft import FTParams
    from editlab.editors.ftkl import FTKLParams
    from editlab.editors.tpatcher import TPatcherParams
    from editlab.models.train import TrainConfig
    from editlab.nmt.tpatcher import NmtTPatcherHyperParams

    paper = load_config(REPO / "config/paper.yaml")
    mini = load_config()
    sme, nmt = generated_schema("sme.schema.yaml"), generated_schema("nmt.schema.yaml")
    base = generated_schema("base.schema.yaml")
    cases = []
    for task in ("fever", "zsre"):
        for cls, method in ((TPatcherParams, "tpatcher"), (FTParams, "ft"), (FTKLParams, "ftkl")):
            section = paper["sme"][method]
            cases.append((cls.from_config(section, task), {**section, **section.get(task, {})},
                          sme["properties"][method]["properties"], mini["sme"][method]))
        cases.append((TrainConfig.from_config(paper["base"][task]["train"]), paper["base"][task]["train"],
                      base["$defs"]["train"]["properties"], mini["base"][task]["train"]))
    cases.append((NmtTPatcherHyperParams.from_config(paper["nmt"]["tpatcher"]), paper["nmt"]["tpatcher"],
                  nmt["properties"]["tpatcher"]["properties"], mini["nmt"]["tpatcher"]))
    leaked = []
    for built, section, props, mini_section in cases:
        values = {**dataclasses.asdict(built), **dataclasses.asdict(built).get("patch", {})}
        for key, prop in props.items():
            if key in ("fever", "zsre"):
                continue
            want = section[key] if key in section else prop["default"]
            assert values[key] == want, (type(built).__name__, key)
            if key not in section and key in mini_section:   # a mini value would have leaked here before
                leaked.append(key)
                assert values[key] == prop["default"] != mini_section[key] or mini_section[key] == prop["default"]
    assert "selection" in leaked
    assert TrainConfig.from_config(paper["base"]["fever"]["train"]).selection == "best_val"   # the reference
    assert TrainConfig.from_config(mini["base"]["fever"]["train"]).selection == "last"


def test_method_lists_in_the_schema_are_the_editor_registry():
    from editlab.editors import REGISTRY, factory

    sme, nmt = generated_schema("sme.schema.yaml"), generated_schema("nmt.schema.yaml")
    assert sme["properties"]["methods"]["items"]["enum"] == list(REGISTRY["sme"])
    assert sme["properties"]["long_stream"]["properties"]["methods"]["items"]["enum"] == list(REGISTRY["sme"])
    assert nmt["properties"]["methods"]["items"]["enum"] == list(REGISTRY["nmt"])
    for domain, names in REGISTRY.items():
        for name in names:
            assert callable(factory(domain, name))
    with pytest.raises(ConfigError, match=r"config key 'nmt.methods': unknown NMT method 'rom' .*did you mean 'rome'"):
        factory("nmt", "rom")


def test_a_missing_required_key_is_named_as_the_schema_names_it():
    from editlab.data.splits import SplitConfig

    cfg = load_config()
    del cfg["splits"]["zsre"]["n_folds"]
    with pytest.raises(ConfigError) as schema_err:
        validate_config(cfg)
    with pytest.raises(ConfigError) as code_err:
        SplitConfig.from_config(cfg["splits"]["zsre"], "splits.zsre")
    assert str(schema_err.value) == str(code_err.value) == "invalid config: config key 'splits.zsre.n_folds': missing"



def test_building_the_config_schema_does_not_load_transformers_model_code() -> None:
    """Every Snakemake call validates the config against the hyperparameter dataclasses; importing their
    modules must not pull in transformers' model code (about 2.4 s), which only jobs loading a model need."""
    import re

    specs = sorted({m for p in (REPO / "workflow" / "schemas").glob("*.yaml")
                    for m in re.findall(r'x-dataclass: "([\w.]+):', p.read_text())})
    assert len(specs) >= 10
    code = (f"import importlib, sys\nfor m in {specs!r}:\n    importlib.import_module(m)\n"
            "print('transformers.modeling_utils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", specs
