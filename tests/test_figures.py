"""Figures and the results workflow on synthetic fold outputs (tests/synthetic_sme.py).

Fast tests call each plotting module directly; the slow ones run the real Snakemake rules of
aggregate.smk and figures.smk in a temporary copy of the workflow, restricted with --allowed-rules to
the results stage so the synthetic fold outputs stand in for the editing stage.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_workflow, run_snakemake
from synthetic_sme import write_synthetic_results

from editlab.errors import DataFormatError
from editlab.plots.activations import plot_patch_activations
from editlab.plots.cost import plot_cost
from editlab.plots.curves import plot_sme_curves
from editlab.plots.long_stream import plot_long_stream
from editlab.results.aggregate import aggregate_method
from editlab.results.settings import ReportSettings

NAME = "ci"
METHODS = ("tpatcher", "ft", "ftkl")
TASKS = ("fever", "zsre")
RESULTS_RULES = ["aggregate_sme_method", "collect_sme", "main_table", "cost_sme_method", "collect_cost", "cost_table",
                 "fig_sme_curves", "fig_patch_activations", "fig_long_stream", "fig_cost"]
FIGURES = [f"sme_curves_{t}" for t in TASKS] + [f"patch_activations_{t}" for t in TASKS] + ["long_stream",
                                                                                          "cost_per_edit"]
TABLES = ["table_main", "table_cost"]
TARGETS = ([f"results/{NAME}/tables/sme.csv", f"results/{NAME}/tables/cost.csv"]
           + [f"figures/{NAME}/{t}.{e}" for t in TABLES for e in ("md", "tex", "html")]
           + [f"figures/{NAME}/{f}.{e}" for f in FIGURES for e in ("pdf", "png")])
LONG_STREAM_CONFIG = "sme:\n  long_stream: {enabled: true, methods: [tpatcher, ft]}\nreport: {edit_speed: true}\n"


def assert_figure_files(pdf: Path, png: Path) -> None:
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_results(root, name=NAME, n_folds=2, n_visited=40, checkpoint_every=5,
                            long_methods=("tpatcher", "ft"), edit_speed=True)
    return root


def fold_file(root: Path, task: str, method: str, fold: int, name: str) -> str:
    return str(root / "results" / NAME / "sme" / task / method / f"fold{fold}" / name)


def test_plot_modules_write_pdf_and_png(synthetic, tmp_path):
    settings = ReportSettings(dpi=60)
    runs = {m: [(fold_file(synthetic, "zsre", m, k, "edits.jsonl"), fold_file(synthetic, "zsre", m, k, "curve.jsonl"))
                for k in range(2)] for m in METHODS}
    plot_sme_curves("zsre", runs, settings, tmp_path / "c.pdf", tmp_path / "c.png", NAME)
    assert_figure_files(tmp_path / "c.pdf", tmp_path / "c.png")
    plot_patch_activations("zsre", fold_file(synthetic, "zsre", "tpatcher", 0, "activations.npz"), 0, settings,
                           tmp_path / "a.pdf", tmp_path / "a.png", NAME)
    assert_figure_files(tmp_path / "a.pdf", tmp_path / "a.png")
    long = {t: {m: tuple(str(synthetic / "results" / NAME / "sme" / t / m / "long" / f)
                         for f in ("edits.jsonl", "curve.jsonl")) for m in ("tpatcher", "ft")} for t in TASKS}
    plot_long_stream(long, ["tpatcher", "ft"], settings, tmp_path / "l.pdf", tmp_path / "l.png", NAME)
    assert_figure_files(tmp_path / "l.pdf", tmp_path / "l.png")
    cost = {t: {m: [(fold_file(synthetic, t, m, k, "edits.jsonl"), fold_file(synthetic, t, m, k, "summary.json"),
                     str(synthetic / "benchmarks" / "out" / NAME / "sme" / t / m / f"fold{k}.tsv")) for k in range(2)]
                for m in METHODS} for t in TASKS}
    plot_cost(cost, settings, tmp_path / "k.pdf", tmp_path / "k.png", NAME)
    assert_figure_files(tmp_path / "k.pdf", tmp_path / "k.png")
    plot_cost(cost, settings, tmp_path / "s.pdf", tmp_path / "s.png", NAME,
              edit_speed=synthetic / "results" / NAME / "benchmarks" / "edit_speed.json")
    assert_figure_files(tmp_path / "s.pdf", tmp_path / "s.png")


def test_cost_figure_with_a_task_without_edits(synthetic, tmp_path):
    """A task whose base model was right on every visited example (n_edits 0, no edited rows) gets an empty
    panel; before, its log axis had no positive value and matplotlib refused to draw the figure."""
    import shutil

    cost = {}
    for t in TASKS:
        cost[t] = {}
        for m in METHODS:
            cost[t][m] = []
            for k in range(2):
                edits, summary = fold_file(synthetic, t, m, k, "edits.jsonl"), fold_file(synthetic, t, m, k,
                                                                                         "summary.json")
                bench = str(synthetic / "benchmarks" / "out" / NAME / "sme" / t / m / f"fold{k}.tsv")
                if t == "fever":
                    rows = [json.loads(line) for line in Path(edits).read_text().splitlines()]
                    edits, summary = tmp_path / f"{m}{k}.jsonl", tmp_path / f"{m}{k}.json"
                    edits.write_text("".join(json.dumps({**r, "was_error": False}) + "\n" for r in rows))
                    shutil.copy(fold_file(synthetic, t, m, k, "summary.json"), summary)
                    summary.write_text(json.dumps({**json.loads(summary.read_text()), "n_edits": 0}))
                cost[t][m].append((str(edits), str(summary), bench))
    plot_cost(cost, ReportSettings(dpi=60), tmp_path / "k.pdf", tmp_path / "k.png", NAME)
    assert_figure_files(tmp_path / "k.pdf", tmp_path / "k.png")


def test_pdf_is_byte_identical_on_rerun(synthetic, tmp_path):
    settings = ReportSettings(dpi=60)
    path = fold_file(synthetic, "fever", "tpatcher", 0, "activations.npz")
    for name in ("a", "b"):
        plot_patch_activations("fever", path, 0, settings, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png", NAME)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


# --- the real Snakemake rules -------------------------------------------------------------------------

def results_workflow(dest: Path) -> Path:
    workdir = copy_workflow(dest)
    (workdir / "long_stream.yaml").write_text(LONG_STREAM_CONFIG)
    return workdir


def snakemake(workdir: Path, *targets: str, options: tuple[str, ...] = (),
              check: bool = True) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, *options, "--configfile", "config/ci.yaml", "long_stream.yaml",
                         "--allowed-rules", *RESULTS_RULES, "--", *targets, check=check)


def planned_rules(dry_run: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", dry_run.stdout + dry_run.stderr, flags=re.M)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    workdir = results_workflow(tmp_path_factory.mktemp("workflow"))
    write_synthetic_results(workdir, name=NAME, n_folds=2, n_visited=40, checkpoint_every=5,
                            long_methods=("tpatcher", "ft"), edit_speed=True)
    snakemake(workdir, *TARGETS)
    return workdir


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_every_table_and_figure_rule_writes_its_files(finished_run):
    for figure in FIGURES:
        assert_figure_files(finished_run / "figures" / NAME / f"{figure}.pdf",
                            finished_run / "figures" / NAME / f"{figure}.png")
    for table in TABLES:
        for ext in ("md", "tex", "html"):
            assert (finished_run / "figures" / NAME / f"{table}.{ext}").stat().st_size > 200
    markdown = (finished_run / "figures" / NAME / "table_main.md").read_text()
    assert [line.split("|")[1].strip() for line in markdown.splitlines()[2:5]] == ["T-Patcher", "FT", "FT+KL"]


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_sme_csv_equals_direct_aggregation_of_the_fold_summaries(finished_run):
    table = pd.read_csv(finished_run / "results" / NAME / "tables" / "sme.csv")
    assert list(table.columns[:7]) == ["task", "method", "metric", "mean", "ci_low", "ci_high", "n_folds"]
    for task in TASKS:
        for method in METHODS:
            expected = aggregate_method([fold_file(finished_run, task, method, k, "summary.json") for k in range(2)],
                                        task, method, 0.95)
            got = table[(table["task"] == task) & (table["method"] == method)].reset_index(drop=True)
            pd.testing.assert_frame_equal(got[["metric", "n_folds"]], expected[["metric", "n_folds"]])
            for column in ("mean", "ci_low", "ci_high"):
                assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-5, nan_ok=True)
    sr = table.query("task == 'fever' and method == 'tpatcher' and metric == 'SR'").iloc[0]
    folds = [json.loads(Path(fold_file(finished_run, "fever", "tpatcher", k, "summary.json")).read_text())["SR"]
             for k in range(2)]
    assert sr["mean"] == pytest.approx(sum(folds) / 2, rel=1e-5)


def edit_module(path: Path) -> None:
    # A real code change: a comment or docstring edit reruns nothing (editlab.stages.codedeps).
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("EDITED_BY_THE_TEST = True\n")


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_finished_run_has_nothing_to_do_and_plot_module_edit_reruns_only_its_figures(finished_run):
    assert planned_rules(snakemake(finished_run, *TARGETS, options=("-n",))) == []
    plots = finished_run / "src" / "editlab" / "plots"
    edit_module(plots / "activations.py")
    assert sorted(planned_rules(snakemake(finished_run, *TARGETS, options=("-n",)))) == ["fig_patch_activations"] * 2
    edit_module(plots / "cost.py")
    assert sorted(planned_rules(snakemake(finished_run, *TARGETS, options=("-n",)))) == (
        ["fig_cost"] + ["fig_patch_activations"] * 2)
    edit_module(plots / "curves.py")  # the long-stream figure reuses the curve panels
    assert sorted(set(planned_rules(snakemake(finished_run, *TARGETS, options=("-n",))))) == [
        "fig_cost", "fig_long_stream", "fig_patch_activations", "fig_sme_curves"]


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_report_builds_with_every_caption(finished_run):
    snakemake(finished_run, *TARGETS, options=("--report", "report.html"))
    html = (finished_run / "report.html").read_text(encoding="utf-8")
    assert len(html) > 100_000
    for phrase in ("diagonal staircase", "Scaling to many edits", "Cost per edit by editor",
                   "running", "paper&#39;s layout", "device-hours per fold"):
        assert phrase in html or phrase.replace("&#39;", "'") in html, phrase


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_workflow_refuses_mixed_protocols_with_a_clear_message(tmp_path):
    workdir = results_workflow(tmp_path)
    write_synthetic_results(workdir, name=NAME, methods=("ft",), tasks=("fever",), n_folds=2, n_visited=20,
                            protocols={("fever", "ft", 1): "SR,GR:final;ER,TrainR,TestR:final"})
    result = snakemake(workdir, f"results/{NAME}/tables/sme/fever/ft.csv", check=False)
    assert result.returncode != 0
    assert "editlab: error:" in result.stderr and "must not be averaged" in result.stderr
    log = (workdir / "logs" / NAME / "tables" / "sme_fever_ft.log").read_text()
    assert "fold1/summary.json" in log and "Traceback" not in log
    assert not (workdir / "results" / NAME / "tables" / "sme" / "fever" / "ft.csv").exists()


def test_curves_with_undefined_ratios_still_render(synthetic, tmp_path):
    # A base model with accuracy 0 makes TrainR/TestR null at every checkpoint (seen on the ci profile).
    runs = {}
    for k in range(2):
        curve = tmp_path / f"curve{k}.jsonl"
        rows = [json.loads(line) | {"TrainR": None, "TestR": None}
                for line in Path(fold_file(synthetic, "zsre", "ft", k, "curve.jsonl")).read_text().splitlines()]
        curve.write_text("".join(json.dumps(r) + "\n" for r in rows))
        runs.setdefault("ft", []).append((fold_file(synthetic, "zsre", "ft", k, "edits.jsonl"), str(curve)))
    plot_sme_curves("zsre", runs, ReportSettings(dpi=60), tmp_path / "u.pdf", tmp_path / "u.png", NAME)
    assert_figure_files(tmp_path / "u.pdf", tmp_path / "u.png")


def test_curves_refuse_folds_with_different_protocols(tmp_path):
    write_synthetic_results(tmp_path, name=NAME, methods=("ft",), tasks=("fever",), n_folds=2, n_visited=20,
                            protocols={("fever", "ft", 1): "SR,GR:final;ER,TrainR,TestR:final"})
    runs = {"ft": [(fold_file(tmp_path, "fever", "ft", k, "edits.jsonl"),
                    fold_file(tmp_path, "fever", "ft", k, "curve.jsonl")) for k in range(2)]}
    summaries = [fold_file(tmp_path, "fever", "ft", k, "summary.json") for k in range(2)]
    with pytest.raises(DataFormatError, match="must not be averaged"):
        plot_sme_curves("fever", runs, ReportSettings(dpi=60), tmp_path / "c.pdf", tmp_path / "c.png", NAME,
                        summaries=summaries)
    assert not (tmp_path / "c.pdf").exists()
