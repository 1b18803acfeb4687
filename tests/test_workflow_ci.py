"""A real snakemake run of config/ci.yaml in a temporary copy of the workflow (not a dry run): the
session's shared finished run (conftest.ci_finished)."""

from __future__ import annotations

import json

import pytest
from conftest import copy_finished, run_snakemake

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workflow")]


@pytest.fixture
def ci_run(ci_finished):
    return ci_finished   # read only


def test_base_metrics_written(ci_run):
    for task in ("fever", "zsre"):
        metrics = json.loads((ci_run / f"results/ci/base/{task}/metrics.json").read_text())
        assert {"val_acc", "test_acc", "train_subset_acc"} <= set(metrics)
        assert 0.0 <= metrics["test_acc"] <= 1.0
        assert (ci_run / f"results/ci/base/{task}/model/config.json").is_file()


def test_saved_model_loads_with_auto_classes(ci_run):
    from transformers import AutoModel, AutoTokenizer

    for task in ("fever", "zsre"):
        path = ci_run / f"results/ci/base/{task}/model"
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path)
        assert len(tok) == model.config.vocab_size


def test_splits_and_folds_persisted(ci_run):
    for task in ("fever", "zsre"):
        d = ci_run / f"results/ci/splits/{task}"
        edit = set((d / "edit.txt").read_text().split())
        folds = [set((d / f"fold{k}.txt").read_text().split()) for k in range(2)]
        assert folds[0] | folds[1] == edit and not folds[0] & folds[1]


def test_rules_have_logs_and_benchmarks(ci_run):
    assert (ci_run / "logs/ci/base/fever.log").stat().st_size > 0
    assert (ci_run / "benchmarks/out/ci/base/zsre.tsv").is_file()


def test_nothing_left_to_do(ci_run, tmp_path):
    work = copy_finished(ci_run, tmp_path / "wf")
    proc = run_snakemake(work, "--configfile", "config/ci.yaml", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_result_files_record_provenance(ci_run):
    """Every result JSON (and each table's sidecar) says what made it (docs/reliability.md)."""
    from editlab.config import config_hash, load_config

    expected = config_hash(load_config(ci_run / "config/ci.yaml", base=ci_run / "config.yaml"))
    files = sorted((ci_run / "results/ci/base").glob("*/metrics.json"))
    files += sorted((ci_run / "results/ci/sme").glob("*/*/fold*/summary.json"))
    files += sorted((ci_run / "results/ci/nmt").glob("*/*/summary.json"))
    files += sorted((ci_run / "results/ci/tables").glob("*.provenance.json"))
    assert len(list((ci_run / "results/ci/tables").glob("*.provenance.json"))) == 3   # sme, cost, nmt
    for path in files:
        prov = json.loads(path.read_text())["provenance"]
        assert prov["config_hash"] == expected and prov["seed"] == 0, path
        assert prov["git_commit"] == "unknown"          # a copy of the workflow outside any checkout
        assert set(prov["versions"]) >= {"python", "torch", "transformers", "editlab"} and prov["device"] == "cpu"
        if "/sme/" in str(path) or "/nmt/" in str(path) or "tables" in str(path):
            assert prov["protocol"], path


def test_edit_speed_rule_times_both_paths_on_every_model(ci_run, tmp_path):
    """report.edit_speed: the rule runs benchmarks/edit_speed.py's core on the run's models and on the
    base-sized ones, and writes what the cost figure reads (no timing asserted)."""
    from editlab.results.fold_outputs import read_edit_speed

    work = copy_finished(ci_run, tmp_path / "wf")
    (work / "speed.yaml").write_text("report:\n  edit_speed: true\n  edit_speed_settings: "
                                     "{edits: 1, base_edits: 1, base_steps: 5, base_memory: 20}\n")
    run_snakemake(work, "--configfile", "config/ci.yaml", "speed.yaml", "--", "results/ci/benchmarks/edit_speed.json")
    path = work / "results/ci/benchmarks/edit_speed.json"
    assert set(read_edit_speed(path)) == {"fever", "zsre", "fever_base", "zsre_base"}
    speed = json.loads(path.read_text())
    for case, row in speed.items():
        assert row["n_edits"] == 1, case
        assert row["ratio"] == pytest.approx(row["reference_s_per_edit"] / row["cached_s_per_edit"])
    for case in ("fever_base", "zsre_base"):
        assert speed[case]["steps_per_edit"] == speed[case]["cached_mean_steps"] == 5
    assert (work / "logs/ci/benchmarks/edit_speed.log").stat().st_size > 0
    assert (work / "benchmarks/out/ci/benchmarks/edit_speed.tsv").is_file()


def test_run_time_accounts_for_every_benchmark_file(ci_run):
    """benchmarks/run_time.py on the finished ci run: every benchmark TSV lands in a named group (none in a
    fallback), the job-seconds add up to the TSVs', and the Snakemake log yields the run's jobs."""
    import csv
    import re
    import subprocess
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import run_time
    finally:
        sys.path.pop(0)
    root = ci_run / "benchmarks/out/ci"
    tsvs = sorted(root.rglob("*.tsv"))
    groups = {run_time.group_of(p.relative_to(root)) for p in tsvs}
    assert groups and all(g.startswith(("SME ", "base model (", "NMT ", "data", "benchmarks")) for g in groups), groups
    assert any(g.startswith("SME tpatcher folds") for g in groups) and "base model (fever)" in groups
    seconds = 0.0
    for p in tsvs:
        with open(p) as fh:
            seconds += float(next(csv.DictReader(fh, delimiter="\t"))["s"])
    out = subprocess.run([sys.executable, str(REPO / "benchmarks/run_time.py"), "--profile", "ci", "--cores", "2"],
                         cwd=ci_run, capture_output=True, text=True, check=True).stdout
    head = re.search(r"profile 'ci': (\d+) jobs, ([\d,.]+) job-seconds", out)
    assert head and int(head.group(1)) == len(tsvs) and float(head.group(2).replace(",", "")) == round(seconds)
    assert f">= {seconds / 2:,.0f} s wall on 2 cores" in out
    logged = re.search(r"snakemake\.log: (\d+) jobs, ([\d,.]+) job-seconds", out)
    assert logged and int(logged.group(1)) >= len(tsvs)
