"""The paper-shaped smoke run (issue 14): config/paper.yaml with only sizes changed, end to end through real
Snakemake on tiny random hub-shaped checkpoints and fixture data (editlab.paper_smoke).

Two runs in one workflow copy, shared by the tests of this module (conftest.shared_workdir):
- config/paper_smoke.yaml: the Cao route (data.zip ingested), the paper's reference execution path;
- config/paper_smoke_kilt.yaml: the KILT route (the download rule fetches the KILT files, zsRE questions
  from meta.template_questions, rephrases back-translated by tiny Marian models), the cached path.
Both build the SME half of the workflow (target `sme_all`; the NMT half needs the hub's wmt14).
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, copy_finished, copy_workflow, run_snakemake, shared_workdir

from editlab.config import load_yaml, resolve_config, validate_config
from editlab.paper_smoke import SIZE_KEYS, SWITCH_KEYS

pytestmark = [pytest.mark.slow]

PAPER = REPO / "config/paper.yaml"
SMOKE = {"paper_smoke": REPO / "config/paper_smoke.yaml", "paper_smoke_kilt": REPO / "config/paper_smoke_kilt.yaml"}
# what each smoke profile switches besides sizes (SWITCH_KEYS), and to what
SWITCHES = {"paper_smoke": {}, "paper_smoke_kilt": {"data.source": "kilt", "sme.path": "cached", "sme.ft.tune": "ffn",
                                                    "sme.ftkl.tune": "ffn"}}
TASKS = ("fever", "zsre")
METHODS = ("tpatcher", "ft", "ftkl")
RATES = ("SR", "GR", "ER", "TrainR", "TestR")


def leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every non-mapping value (an empty mapping counts as a value)."""
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, name + ".")
        else:
            yield name, value


def own_keys(path: Path) -> set[str]:
    """The keys a smoke file and the smoke files it extends state (up to paper.yaml, which is the base)."""
    keys: set[str] = set()
    while path.resolve() != PAPER.resolve():
        data = dict(load_yaml(path))
        parent = data.pop("extends", None)
        assert parent, f"{path} must extend config/paper.yaml (directly or through another smoke profile)"
        keys |= dict(leaves(data)).keys()
        path = path.parent / parent
    return keys


def is_size_key(key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in SIZE_KEYS)


@pytest.mark.parametrize("profile", sorted(SMOKE))
def test_smoke_profile_differs_from_paper_only_in_its_size_overrides(profile):
    """Key by key: the resolved smoke config equals the resolved paper config except in the keys the smoke
    file(s) state, and each of those is a size / input location (SIZE_KEYS) or one of the profile's named
    switches (data route, execution path). No behaviour of the paper profile is overridden."""
    paper = dict(leaves(resolve_config([PAPER])))
    smoke = dict(leaves(resolve_config([SMOKE[profile]])))
    validate_config(resolve_config([SMOKE[profile]]))
    differing = {k for k in paper.keys() | smoke.keys() if paper.get(k, "<absent>") != smoke.get(k, "<absent>")}
    stated = own_keys(SMOKE[profile])
    assert differing <= stated, f"{profile}: differs from paper.yaml in keys it does not state: {differing - stated}"
    switched = {k for k in differing if k in SWITCH_KEYS}
    assert {k: smoke[k] for k in switched} == SWITCHES[profile]
    not_sizes = sorted(k for k in differing - switched if not is_size_key(k))
    assert not not_sizes, f"{profile} overrides keys that are not sizes or input locations: {not_sizes}"
    # the overrides are real: sizes shrink the paper's run, locations point at the fixture
    assert smoke["splits.fever.n_folds"] == smoke["splits.zsre.n_folds"] == 2
    assert smoke["base.fever.model.source"] == smoke["base.zsre.model.source"] == "hub"
    assert smoke["base.fever.model.hub_id"].startswith("data/paper_smoke/")


def test_size_key_list_refuses_behaviour_keys():
    """The allowed list itself: learning rates, coefficients, switches and schedules are not sizes."""
    for key in ("sme.tpatcher.lr", "sme.tpatcher.memory_coef", "sme.tpatcher.val_every", "sme.path",
                "base.fever.train.lr", "base.zsre.train.warmup_steps", "splits.fever.edit", "sme.methods",
                "base.fever.model.source", "data.backtranslate.num_beams", "splits.zsre.single_answer"):
        assert not is_size_key(key), key


def _build(workdir: Path) -> None:
    from editlab.paper_smoke import make_paper_smoke

    copy_workflow(workdir)
    make_paper_smoke(workdir / "data/paper_smoke")
    for profile in ("paper_smoke", "paper_smoke_kilt"):
        run_snakemake(workdir, "--configfile", f"config/{profile}.yaml", "--", "sme_all", timeout=1200)


@pytest.fixture
def smoke_run(tmp_path_factory) -> Path:
    """The workflow copy after both smoke runs (read only; copy it to change anything)."""
    return shared_workdir(tmp_path_factory, "paper_smoke", _build)


def _summaries(run: Path, name: str, task: str, method: str) -> list[dict[str, Any]]:
    streams = [run / f"results/{name}/sme/{task}/{method}/fold{k}/summary.json" for k in range(2)]
    if method in ("tpatcher", "ft"):   # the paper's long_stream methods
        streams.append(run / f"results/{name}/sme/{task}/{method}/long/summary.json")
    return [json.loads(p.read_text()) for p in streams]


@pytest.mark.parametrize("name,path", [("paper_smoke", "reference"), ("paper_smoke_kilt", "cached")])
def test_smoke_run_outputs_and_metrics(smoke_run, name, path):
    run = smoke_run
    for task in TASKS:
        base = json.loads((run / f"results/{name}/base/{task}/metrics.json").read_text())
        assert 0.0 <= base["test_acc"] <= 1.0
        # the fixture checkpoint, loaded through the hub code: tiny, with the paper's FEVER one-logit head
        model_cfg = json.loads((run / f"results/{name}/base/{task}/model/config.json").read_text())
        assert model_cfg.get("hidden_size", model_cfg.get("d_model")) == 32
        for method in METHODS:
            for summary in _summaries(run, name, task, method):
                assert summary["path"] == path and summary["provenance"]["profile"] == name
                assert summary["n_visited"] > 0
                for rate in RATES:   # rates in [0, 1]; TrainR / TestR are after/before ratios (>= 0, may pass 1)
                    value, high = summary[rate], 1.0 if rate in ("SR", "GR", "ER") else math.inf
                    assert value is None or (math.isfinite(value) and 0.0 <= value <= high), (task, method, rate)
                if summary["n_edits"]:
                    assert summary["SR"] is not None and summary["mean_steps"] >= 1
    for task in TASKS:   # the fixture models err on unseen facts, so both tasks get edits
        assert sum(s["n_edits"] for m in METHODS for s in _summaries(run, name, task, m)) > 0, task
    table = (run / f"results/{name}/tables/sme.csv").read_text().splitlines()
    assert len(table) > 1
    for stem in ("sme_curves_fever", "sme_curves_zsre", "patch_activations_fever", "patch_activations_zsre",
                 "long_stream", "cost_per_edit"):
        for ext in ("pdf", "png"):
            assert (run / f"figures/{name}/{stem}.{ext}").stat().st_size > 0, (stem, ext)
    for ext in ("md", "tex", "html"):
        assert (run / f"figures/{name}/table_main.{ext}").stat().st_size > 0


def test_cao_route_ingested_the_zip(smoke_run):
    log = (smoke_run / "logs/paper_smoke/data/ingest_cao.log").read_text()
    assert "data/paper_smoke/data.zip!data/structured_zeroshot-train-new_annotated_final.jsonl" in log


def test_kilt_route_downloaded_and_backtranslated(smoke_run):
    """The download rule fetched the KILT files; the zsRE questions are meta.template_questions (not the
    "subject [SEP] relation" input) and every record got back-translated rephrases."""
    from editlab.data.readers import read_task_file

    run = smoke_run
    kilt = run / "results/paper_smoke_kilt/data/kilt"
    for name in ("fever-train-kilt.jsonl", "structured_zeroshot-dev-kilt.jsonl"):
        assert (kilt / name).read_bytes() == (run / "data/paper_smoke/kilt" / name).read_bytes()
    train = run / "results/paper_smoke_kilt/data/zsre/structured_zeroshot-train-new_annotated_final.jsonl"
    zsre = [json.loads(line) for line in train.read_text().splitlines()]
    assert all("[SEP]" in r["kilt_input"] and r["input"] == r["meta"]["template_questions"][0] for r in zsre)
    assert sum(bool(r["rephrases"]) for r in zsre) > len(zsre) // 2
    assert len(read_task_file("zsre", train)) == len(zsre)   # the Cao-format reader takes the rebuilt file


def test_smoke_run_nothing_left_to_do(smoke_run, tmp_path):
    work = copy_finished(smoke_run, tmp_path / "wf")
    for profile in ("paper_smoke", "paper_smoke_kilt"):
        proc = run_snakemake(work, "--configfile", f"config/{profile}.yaml", "-n", "--", "sme_all")
        assert "Nothing to be done" in proc.stdout + proc.stderr, profile
