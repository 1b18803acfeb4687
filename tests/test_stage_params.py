"""Params and targets declared by the library (editlab.stages.params, editlab.stages.targets).

1. On the real DAG of each profile, every job's params equal, value for value and repr for repr, what the
   rule files computed by hand before the move (frozen below as `old_params`), so that no existing
   results tree reruns.
2. The rerun semantics on the real DAG: tuning sme.ft.lr changes the params of the ft fold jobs only; a
   nmt key changes those of exactly the NMT jobs that read it.
3. Coverage: real jobs (data, splits, fold, base model, the SME folds of every method, the toy NMT chain),
   run in the real job wrapper with their config and params wrapped in recorders (tests/job_reads.py),
   read no config key whose change (or addition) alters neither their params nor an upstream job's, and
   no nmt key their params lack while the config has it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_workflow
from dag_jobs import run_dag_jobs
from test_sme import _config, _write_world

from editlab.config import load_yaml, resolve_config, validate_config
from editlab.data.gdrive import download_settings
from editlab.errors import ConfigError, EditlabError
from editlab.hub_items import hub_items
from editlab.layout import CAO_FILES, NMT_RANK_ONE_METHODS, NMT_TASK_FILES, Layout
from editlab.stages import STAGES, stage_code
from editlab.stages.ingest_cao import cao_downloads, ingest_files
from editlab.stages.params import NMT_KEYS, NMT_METHOD_SECTION, PARAMS, StageParams
from editlab.stages.targets import Targets

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"
JOB_READS = Path(__file__).resolve().parent / "job_reads.py"


# --- 1. the params of every job of the real DAG, against the rule files' old expressions ------------------

def old_params(rule: str, wc: Mapping[str, str], config: Mapping[str, Any]) -> dict[str, Any]:
    """A frozen copy of the params expressions of workflow/rules/*.smk and common.smk before the library
    declared them (commit 0b99544, plus the download_cao / prefetch_hub / ingest files / nmt revision params of
    0b3d6b9 and the long-stream max_edits / scale figure params of the scale profile), for one job; `code` left
    out (tests/test_stages.py checks it)."""
    layout = Layout.from_config(config)
    name, tasks = config["name"], ["fever", "zsre"]

    def sme_settings(method):
        return {k: v for k, v in config["sme"].items()
                if k not in ("methods", "long_stream", "tpatcher", "ft", "ftkl") or k == method}

    def sme_methods():
        return config.get("sme", {}).get("methods", ["tpatcher", "ft", "ftkl"])

    def long_stream_methods():
        long_stream = config.get("sme", {}).get("long_stream", {})
        return long_stream.get("methods", ["tpatcher", "ft"]) if long_stream.get("enabled", False) else []

    def report_section():
        return config.get("report", {})

    def sme_fold_outputs(task, method, filename):
        return [layout.sme_file(task, method, f"fold{k}", filename) for k in range(config["splits"][task]["n_folds"])]

    def sme_fold_benchmarks(task, method):
        return [layout.sme_bench(task, method, f"fold{k}") for k in range(config["splits"][task]["n_folds"])]

    def heatmap_fold():
        fold = report_section().get("heatmap_fold", 0)
        assert fold < min(config["splits"][task]["n_folds"] for task in tasks)
        return fold

    def nmt_params(*keys):
        return {k: config["nmt"][k] for k in keys if k in config["nmt"]}

    def nmt_edit_params():
        nmt = config["nmt"]
        section = {"ft": "ft", "tpatcher": "tpatcher"}.get(wc["method"], "rome")
        return {"locus": {wc["task"]: nmt["locus"][wc["task"]]}, section: nmt.get(section, {}), "eval": nmt["eval"]}

    def long_stream_limit(method):
        if wc["stream"] != "long":
            return None
        limit = (config["sme"].get("long_stream") or {}).get("max_edits")
        return limit.get(method) if isinstance(limit, dict) else limit

    def cao_key(name):
        return {CAO_FILES[k][1]: k for k in cao_downloads(config["data"])}[name]

    seed = config["seed"]
    kilt = config["data"].get("kilt", {}).get("files", {})
    table = {
        "all": lambda: {},
        "sme_all": lambda: {},
        "mini_data": lambda: {"mini": config["data"].get("mini"), "seed": seed},
        "ingest_cao": lambda: {"data": config["data"], "files": ingest_files(config["data"], layout)},
        "download_cao": lambda: {"key": cao_key(wc["name"]), "data": download_settings(config["data"], cao_key(wc["name"]))},
        "prefetch_hub": lambda: {"item": asdict(hub_items(config)[wc["role"]])},
        "download_kilt": lambda: {"url": kilt[wc["name"]]["url"], "sha256": kilt[wc["name"]].get("sha256"),
                                  "download": config["data"].get("download", {})},
        "backtranslate_fever": lambda: {"backtranslate": config["data"].get("backtranslate", {})},
        "backtranslate_zsre": lambda: {"backtranslate": config["data"].get("backtranslate", {})},
        "splits": lambda: {"split": config["splits"][wc["task"]], "seed": seed},
        "fold": lambda: {"n_folds": config["splits"][wc["task"]]["n_folds"], "seed": seed},
        "base_model": lambda: {"base": config["base"][wc["task"]], "seed": seed},
        "sme_tpatcher": lambda: {"method": "tpatcher", "sme": sme_settings("tpatcher"),
                                 "max_edits": long_stream_limit("tpatcher"), "seed": seed},
        "sme_baseline": lambda: {"method": wc["method"], "sme": sme_settings(wc["method"]),
                                 "max_edits": long_stream_limit(wc["method"]), "seed": seed},
        "edit_speed": lambda: {"settings": config["report"]["edit_speed_settings"], "sme": sme_settings("tpatcher")},
        "aggregate_sme_method": lambda: {"report": report_section()},
        "cost_sme_method": lambda: {"report": report_section()},
        "collect_sme": lambda: {},
        "collect_cost": lambda: {},
        "main_table": lambda: {"kind": "main", "methods": sme_methods(), "tasks": tasks, "profile": name},
        "cost_table": lambda: {"kind": "cost", "methods": sme_methods(), "tasks": tasks, "profile": name},
        "fig_sme_curves": lambda: {
            "runs": {m: list(zip(sme_fold_outputs(wc["task"], m, "edits.jsonl"),
                                 sme_fold_outputs(wc["task"], m, "curve.jsonl"))) for m in sme_methods()},
            "report": report_section(), "profile": name},
        "fig_patch_activations": lambda: {"fold": heatmap_fold(), "report": report_section(), "profile": name},
        "fig_long_stream": lambda: {
            "runs": {t: {m: (layout.sme_file(t, m, "long", "edits.jsonl"), layout.sme_file(t, m, "long", "curve.jsonl"))
                         for m in long_stream_methods()} for t in tasks},
            "methods": long_stream_methods(), "report": report_section(), "profile": name},
        "fig_scale_stream": lambda: {
            "runs": {t: {m: (layout.sme_file(t, m, "long", "edits.jsonl"), layout.sme_file(t, m, "long", "curve.jsonl"))
                         for m in long_stream_methods()} for t in tasks},
            "methods": long_stream_methods(), "report": report_section(), "profile": name},
        "fig_cost": lambda: {
            "runs": {t: {m: list(zip(sme_fold_outputs(t, m, "edits.jsonl"), sme_fold_outputs(t, m, "summary.json"),
                                     sme_fold_benchmarks(t, m))) for m in sme_methods()} for t in tasks},
            "report": report_section(), "profile": name},
        "nmt_toy_data": lambda: {"nmt": nmt_params("toy", "tasks"), "seed": seed},
        "nmt_hub_data": lambda: {"nmt": nmt_params("hub_data", "stats", "eval", "tasks"), "seed": seed},
        "nmt_model": lambda: {"nmt": nmt_params("source", "hub_id", "revision", "model"), "seed": seed},
        "nmt_model_metrics": lambda: {"nmt": nmt_params("eval")},
        "nmt_probe": lambda: {"nmt": nmt_params("min_presence", "eval")},
        "nmt_stats": lambda: {"nmt": nmt_params("stats", "source", "hub_id")},
        "nmt_edit": lambda: {"nmt": nmt_edit_params(), "seed": seed},
        "nmt_edit_rank_one": lambda: {"nmt": nmt_edit_params(), "seed": seed},
        "nmt_table": lambda: {},
        "nmt_figure": lambda: {},
    }
    assert rule in table, f"rule {rule} is not in the frozen table of old params: add what it computed before"
    return table[rule]()


LONG_STREAM = "extends: config/ci.yaml\nsme:\n  long_stream: {enabled: true}\nreport: {edit_speed: true, heatmap_fold: 1}\n"
PROFILES = {
    "mini": (["config.yaml"], {}),
    "ci": (["config/ci.yaml"], {}),
    "paper-cao": (["config/paper.yaml"], {}),
    "paper-kilt": (["config/paper.yaml"], {"data": {"source": "kilt"}}),
    # the long streams, the edit speed panel and a heat map fold other than 0, which ci leaves off
    "ci-long-stream": (["long_stream.yaml"], {}),
}


def dag_workflow(tmp_path: Path) -> Path:
    wf = copy_workflow(tmp_path / "wf")
    (wf / "data/paper").mkdir(parents=True)
    (wf / "data/paper/data.zip").write_bytes(b"")   # the cao ingest's input must exist for the dry run
    (wf / "long_stream.yaml").write_text(LONG_STREAM)
    return wf


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.slow
def test_every_job_of_the_dag_gets_the_params_the_rules_computed_before(tmp_path, profile):
    files, overrides = PROFILES[profile]
    wf = dag_workflow(tmp_path)
    jobs = run_dag_jobs(wf, *files, overrides=overrides)
    config = resolve_config([wf / f for f in files], overrides=overrides)
    validate_config(config)
    assert len(jobs) > 60 and {j["rule"] for j in jobs} >= {"sme_tpatcher", "sme_baseline", "nmt_edit", "fold"}
    for job in jobs:
        where = f"{profile}: rule {job['rule']} {job['wildcards']}"
        old = old_params(job["rule"], job["wildcards"], config)
        new = {k: v for k, v in job["params"].items() if k != "code"}
        assert new == {k: repr(v) for k, v in old.items()}, where
        # what Snakemake stores and compares (the params rerun trigger): the same reprs, plus the code
        code = [job["params"]["code"]] if "code" in job["params"] else []
        assert job["recorded"] == sorted([repr(v) for v in old.values()] + code), where


# --- 2. rerun semantics on the real DAG ----------------------------------------------------------------

def changed_jobs(base: list[dict], mutated: list[dict]) -> set[tuple[str, str]]:
    """(rule, wildcards) of the jobs whose recorded params differ between two DAGs of the same jobs."""
    key = lambda j: (j["rule"], json.dumps(j["wildcards"], sort_keys=True))  # noqa: E731
    before = {key(j): j["recorded"] for j in base}
    after = {key(j): j["recorded"] for j in mutated}
    assert before.keys() == after.keys(), "a params change must not change the jobs"
    return {k for k in before if before[k] != after[k]}


@pytest.mark.slow
def test_a_hyperparameter_reruns_only_the_jobs_that_read_it(tmp_path):
    wf = dag_workflow(tmp_path)
    base = run_dag_jobs(wf, "config/ci.yaml")
    rules = {(j["rule"], json.dumps(j["wildcards"], sort_keys=True)): j for j in base}

    ft_lr = changed_jobs(base, run_dag_jobs(wf, "config/ci.yaml", overrides={"sme": {"ft": {"lr": 0.5}}}))
    assert ft_lr and all(rules[k]["rule"] == "sme_baseline" and rules[k]["wildcards"]["method"] == "ft" for k in ft_lr)
    assert len(ft_lr) == sum(j["rule"] == "sme_baseline" and j["wildcards"]["method"] == "ft" for j in base)

    eval_tokens = changed_jobs(base, run_dag_jobs(wf, "config/ci.yaml",
                                                  overrides={"nmt": {"eval": {"max_new_tokens": 7}}}))
    assert {rules[k]["rule"] for k in eval_tokens} == {"nmt_model_metrics", "nmt_probe", "nmt_edit", "nmt_edit_rank_one"}
    n_readers = sum(j["rule"] in ("nmt_model_metrics", "nmt_probe", "nmt_edit", "nmt_edit_rank_one") for j in base)
    assert len(eval_tokens) == n_readers


# --- the declarations ----------------------------------------------------------------------------------

def test_every_stage_declares_its_params_and_every_rule_takes_them_from_the_library():
    assert set(PARAMS) == set(STAGES)
    assert set(NMT_KEYS) | {"nmt_edit"} == {s for s in STAGES if s.startswith("nmt_") and PARAMS[s].names[:1] == ("nmt",)}
    assert set(NMT_METHOD_SECTION) == set(load_yaml(REPO / "workflow/schemas/nmt.schema.yaml")
                                          ["properties"]["methods"]["items"]["enum"])
    for path in sorted(RULES.glob("*.smk")) + [REPO / "Snakefile"]:
        text = path.read_text()
        assert not re.search(r"\bconfig\[|\bconfig\.get\(", text.replace("config.clear()", "")
                             .replace("config.update(_resolved)", "")), f"{path.name} reads the config itself"
    blocks = rule_params()
    assert len(blocks) > 25
    for rule, (code, lines) in blocks.items():
        assert lines[0].startswith(f'**STAGE_PARAMS("{code}"') and lines[1:] == [f'code=STAGE_CODE("{code}"),'], \
            f"rule {rule}: params other than the stage's own and its code: {lines}"


def rule_params() -> dict[str, tuple[str, list[str]]]:
    """rule -> (the stage of its params.code, the lines of its params section), for every rule with a script."""
    out = {}
    for path in sorted(RULES.glob("*.smk")):
        lines = path.read_text().splitlines()
        rule = None
        for i, line in enumerate(lines):
            if m := re.match(r"^ *rule (\w+):", line):
                rule = m.group(1)
            if rule and line.strip() == "params:":
                indent = len(line) - len(line.lstrip())
                body = []
                for nxt in lines[i + 1:]:
                    if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                        break
                    if nxt.strip() and not nxt.strip().startswith("#"):
                        body.append(nxt.strip())
                code = re.search(r'code=STAGE_CODE\("(\w+)"\)', "\n".join(body))
                assert code, f"rule {rule}: no params.code"
                out[rule] = (code.group(1), body)
    return out


def test_declared_names_wildcards_and_refusals():
    config = resolve_config([REPO / "config/ci.yaml"])
    params = StageParams(config)
    fold = params("sme_stream", method="ft", stream="fold0")
    assert list(fold) == ["method", "sme", "max_edits", "seed"] and fold["method"] == "ft" and fold["max_edits"] is None
    assert "ft" in fold["sme"] and not {"tpatcher", "ftkl", "methods", "long_stream"} & set(fold["sme"])
    per_job = params("sme_stream")   # the method is the job's wildcard: one function of the wildcards each
    assert all(callable(v) for v in per_job.values())
    with pytest.raises(EditlabError, match="wildcard"):
        params.values("sme_stream", {})
    with pytest.raises(EditlabError, match="no params declared for stage 'nope'"):
        params("nope")
    bad = copy.deepcopy(config)
    bad["report"]["heatmap_fold"] = 5
    with pytest.raises(ConfigError, match="config key 'report.heatmap_fold': fold 5 does not exist"):
        Targets(bad).heatmap_fold()
    # defaults from the dataclasses: no long_stream section -> no long streams; enabled without methods -> its default
    no_long = copy.deepcopy(config)
    del no_long["sme"]["long_stream"]
    assert Targets(no_long).long_stream_methods() == []
    no_long["sme"]["long_stream"] = {"enabled": True}
    assert Targets(no_long).long_stream_methods() == ["tpatcher", "ft"]


# --- 3. coverage: what real jobs read ------------------------------------------------------------------

def job_spec(config: Mapping[str, Any], stage: str, rule: str, wildcards: Mapping[str, str], inputs: Any,
             outputs: Any, log: Path, **fixed: str) -> dict[str, Any]:
    values = StageParams(config).values(stage, {**wildcards, **fixed})
    return {"stage": stage, "rule": rule, "input": inputs, "output": outputs, "wildcards": dict(wildcards),
            "params": {**values, "code": stage_code(stage)}, "log": str(log), "config": config}


def run_recorded(tmp_path: Path, specs: list[dict[str, Any]]) -> list[dict[str, list[str]]]:
    spec_file, out = tmp_path / "jobs.json", tmp_path / "reads.json"
    spec_file.write_text(json.dumps(specs))
    proc = subprocess.run([sys.executable, str(JOB_READS), str(spec_file), str(out)], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "EDITLAB_GPU_SLOTS": "0"})
    logs = "\n".join(Path(s["log"]).read_text()[-2000:] for s in specs if Path(s["log"]).exists())
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}\n{logs}"
    return json.loads(out.read_text())


def mutate(config: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """A copy of `config` with the value at `keys` changed (or added, where it was absent)."""
    out = copy.deepcopy(dict(config))
    node = out
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = ["<mutated>", node.get(keys[-1])]
    return out


# Keys a job reads that are no params by design: where and how it runs, and the profile name that is in
# every one of its paths (its outputs, so a new name is a new results tree). Provenance records them all.
RUN_KEYS = ("name", "device", "deterministic", "threads")
# data.source (read for the provenance's data record) chooses which rules make the data files every job reads
# (mini_data, ingest_cao or the KILT download and back-translation): a new source is new upstream jobs.
DAG_KEYS = (("data", "source"),)


def uncovered_reads(config: Mapping[str, Any], job: Mapping[str, list[str]],
                    jobs: list[tuple[str, dict[str, str]]]) -> list[str]:
    """The config keys a job read (config.a.b), or looked for in vain, whose change (or addition) alters none
    of the params of `jobs` (the job itself first, then the upstream jobs whose outputs it reads)."""
    reads, missing = job["read"], job["missing"]
    before = StageParams(config)
    out = []
    for path in reads + missing:
        if not path.startswith("config.") or path.endswith("."):
            continue
        keys = path.split(".")[1:]
        if keys[0] in RUN_KEYS or tuple(keys) in DAG_KEYS:
            continue
        after = StageParams(mutate(config, keys))
        if all(repr(before.values(s, w)) == repr(after.values(s, w)) for s, w in jobs):
            out.append(path)
    return out


def absent_from_params(config: Mapping[str, Any], missing: list[str], section: str) -> list[str]:
    """`params.<section>.a.b` keys a job asked its params for in vain while the config has them."""
    out = []
    for path in missing:
        if not path.startswith(f"params.{section}."):
            continue
        node: Any = config[section]
        for key in path.split(".")[2:]:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            out.append(path)
    return out


@pytest.mark.slow
def test_sme_fold_jobs_read_no_config_key_outside_their_params(tmp_path):
    config = _config()   # config/ci.yaml shaped for the tiny fixture model (tests/test_sme.py)
    (tmp_path / "world").mkdir()
    files = _write_world(tmp_path / "world", "fever")
    layout = Layout(config["name"], root=str(tmp_path / "wf"))
    specs = []
    for method in ("tpatcher", "ft", "ftkl"):
        rule, wc = ("sme_tpatcher", {"task": "fever", "stream": "fold0"}) if method == "tpatcher" else \
            ("sme_baseline", {"task": "fever", "method": method, "stream": "fold0"})
        specs.append(job_spec(config, "sme_stream", rule, wc, files, layout.sme_outputs("fever", method, "fold0"),
                              tmp_path / f"{method}.log", method=method))
    reads = run_recorded(tmp_path, specs)
    upstream = [("base_model", {"task": "fever"}), ("splits", {"task": "fever"}), ("fold", {"task": "fever"}),
                ("mini_data", {})]
    for method, job in zip(("tpatcher", "ft", "ftkl"), reads):
        own = [p for p in job["read"] if p.startswith(f"config.sme.{method}.") and not p.endswith(".")]
        assert own, f"the {method} fold job read nothing of sme.{method}: the recorder saw no reads"
        assert any(p.startswith("config.base.fever.model.") for p in job["read"])
        assert not [p for p in job["read"] if re.match(r"config\.sme\.(tpatcher|ft|ftkl)\.", p)
                    and not p.startswith(f"config.sme.{method}.")], f"{method} read another method's section"
        me = ("sme_stream", {"method": method, "task": "fever", "stream": "fold0"})
        assert uncovered_reads(config, job, [me, *upstream]) == [], method


def nmt_chain(config: Mapping[str, Any], tmp_path: Path, task: str) -> list[dict[str, Any]]:
    """The NMT jobs of one task, in DAG order: toy data, model, its metrics, probe, stats, every method."""
    targets = Targets(config, Layout(config["name"], root=str(tmp_path / "wf")))
    layout = targets.layout
    log = lambda name: tmp_path / "logs" / f"{name}.log"  # noqa: E731
    specs = [job_spec(config, "nmt_toy_data", "nmt_toy_data", {}, {},
                      {**targets.nmt_candidate_files(), **targets.nmt_corpus_files()}, log("toy_data")),
             job_spec(config, "nmt_model", "nmt_model", {}, targets.nmt_model_inputs(), {"model": layout.nmt_model()},
                      log("model")),
             job_spec(config, "nmt_model_metrics", "nmt_model_metrics", {},
                      {"model": layout.nmt_model(), "test": layout.nmt_data("test.jsonl")},
                      [layout.nmt("model_metrics.json")], log("metrics")),
             job_spec(config, "nmt_probe", "nmt_probe", {"task": task},
                      {"model": layout.nmt_model(), "candidates": targets.nmt_task_candidates(task)},
                      {**layout.nmt_task_files(task), "presence": layout.nmt_presence(task)}, log("probe"))]
    stats = targets.nmt_stats_file(task)
    tag, side, layer = re.search(r"stats/([^/]+)/(\w+)_layer(\d+)\.safetensors$", stats).groups()
    specs.append(job_spec(config, "nmt_stats", "nmt_stats", {"tag": tag, "side": side, "layer": layer},
                          {"model": layout.nmt_model(), "corpus": layout.nmt_data("train.jsonl")}, [stats], log("stats")))
    for method in config["nmt"]["methods"]:
        outputs = {k: layout.nmt_edit_file(task, method, f) for k, f in
                   (("summary", "summary.json"), ("sequential", "sequential.json"), ("edits", "edits.jsonl"))}
        rule = "nmt_edit"
        if method in NMT_RANK_ONE_METHODS:
            rule = "nmt_edit_rank_one"
            outputs.update({k: layout.nmt_edit_file(task, method, f"patch/{f}") for k, f in
                            (("patch_tensors", "patches.safetensors"), ("patch_meta", "patches.json"),
                             ("patch_predictions", "final_predictions.jsonl"))})
        specs.append(job_spec(config, "nmt_edit", rule, {"task": task, "method": method},
                              targets.nmt_edit_inputs(task, method), outputs, log(f"edit_{method}")))
    return specs


@pytest.mark.slow
def test_nmt_jobs_read_no_nmt_key_outside_their_params(tmp_path):
    config = resolve_config([REPO / "config/ci.yaml"])
    validate_config(config)
    nmt = config["nmt"]
    # seconds, not minutes: a smaller toy pair and model, short edits (the keys read stay the same)
    nmt["toy"].update(n_test=10, n_specificity=4, n_generalization=2)
    nmt["model"]["train"]["epochs"] = 6
    nmt["stats"]["n_samples"] = 100
    nmt["rome"]["v_num_grad_steps"] = 3
    nmt["ft"]["max_steps"] = 3
    nmt["tpatcher"].update(memory_size=50, val_size=20, max_steps=10, val_start=2, val_every=2)
    nmt["min_presence"] = 0.0
    task = "copy"
    specs = nmt_chain(config, tmp_path, task)
    reads = run_recorded(tmp_path, specs)
    for spec, job in zip(specs, reads):
        where = f"{spec['rule']} {spec['wildcards']}"
        if "nmt" in spec["params"]:
            assert any(p.startswith("params.nmt.") for p in job["read"]), f"{where}: the recorder saw no reads"
        assert not [p for p in job["read"] if p.startswith("config.nmt.")], f"{where} reads job.config's nmt"
        assert absent_from_params(config, job["missing"], "nmt") == [], where
        upstream = [("nmt_model", {}), ("nmt_toy_data", {})] if spec["stage"] != "nmt_toy_data" else []
        assert uncovered_reads(config, job, [(spec["stage"], {**spec["wildcards"]}), *upstream]) == [], where
    method_reads = {s["wildcards"]["method"]: j["read"] for s, j in zip(specs, reads) if s["stage"] == "nmt_edit"}
    for method, paths in method_reads.items():
        section = NMT_METHOD_SECTION[method]
        assert any(p.startswith(f"params.nmt.{section}.") for p in paths), method
    assert set(NMT_TASK_FILES) <= set(Layout("x").nmt_task_files(task))


@pytest.mark.slow
def test_data_split_and_base_model_jobs_read_no_config_key_outside_their_params(tmp_path):
    config = resolve_config([REPO / "config/ci.yaml"])
    validate_config(config)
    config["base"]["fever"]["train"]["epochs"] = 1   # seconds; the keys read stay the same
    layout = Layout(config["name"], root=str(tmp_path / "wf"))
    log = lambda name: tmp_path / "logs" / f"{name}.log"  # noqa: E731
    task, data = "fever", layout.data_files("fever")
    mini_out = {f"{t}_{k.removesuffix('_data')}": p for t in ("fever", "zsre") for k, p in layout.data_files(t).items()}
    specs = [job_spec(config, "mini_data", "mini_data", {}, {}, {**mini_out, "world": layout.world()}, log("mini")),
             job_spec(config, "splits", "splits", {"task": task}, data, layout.split_files(task), log("splits")),
             job_spec(config, "fold", "fold", {"task": task, "k": "0"}, {"edit": layout.split_file(task, "edit")},
                      [layout.fold_file(task, 0)], log("fold")),
             job_spec(config, "base_model", "base_model", {"task": task}, {**data, **layout.split_files(task)},
                      {"model": layout.base_model(task), "metrics": layout.base_metrics(task)}, log("base"))]
    reads = run_recorded(tmp_path, specs)
    upstream: list[tuple[str, dict[str, str]]] = []
    for spec, job in zip(specs, reads):
        where = f"{spec['rule']} {spec['wildcards']}"
        me = (spec["stage"], dict(spec["wildcards"]))
        assert job["read"], f"{where}: the recorder saw no reads"
        assert uncovered_reads(config, job, [me, *upstream]) == [], where
        upstream.append(me)
    base = reads[-1]["read"]
    assert any(p.startswith("config.base.fever.train.") for p in base) and "config.seed" in base
