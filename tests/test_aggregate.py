"""Aggregation, intervals, fold-output checks and tables, against hand computations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from editlab.config import load_config
from editlab.errors import ConfigError, DataFormatError
from editlab.plots.activations import firing_rates
from editlab.plots.bands import mean_band, running_rates
from editlab.results.aggregate import aggregate_method, combine, cost_method, write_table
from editlab.results.fold_outputs import PatchActivations, read_activations, read_edit_speed, read_edits, read_summary
from editlab.results.intervals import t_interval
from editlab.results.settings import ReportSettings
from editlab.results.tables import cost_table, main_table

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = "SR,GR:immediate;ER,TrainR,TestR:final"
T_975_DF2 = 4.302652729911275  # Student-t 0.975 quantile, 2 degrees of freedom (printed tables)
T_975_DF1 = 12.706204736174698


def summary(fold: int, sr: float | None, n_edits: int, n_patches: int, seconds: float | None,
            protocol: str = PROTOCOL, task: str = "fever", method: str = "tpatcher", **extra) -> dict:
    base = {"SR": sr, "GR": 0.5 + 0.1 * fold, "ER": 0.9, "TrainR": 1.0 - 0.01 * fold, "TestR": 0.98,
            "n_edits": n_edits, "n_patches": n_patches, "seconds_per_edit": seconds, "protocol": protocol,
            "task": task, "method": method, "fold": fold}
    return base | extra


def write(tmp: Path, name: str, obj: dict) -> Path:
    path = tmp / name
    path.write_text(json.dumps(obj))
    return path


@pytest.fixture()
def three_folds(tmp_path: Path) -> list[Path]:
    return [write(tmp_path, "s0.json", summary(0, 0.8, 10, 10, 2.0)),
            write(tmp_path, "s1.json", summary(1, 0.9, 20, 30, 4.0)),
            write(tmp_path, "s2.json", summary(2, 1.0, 5, 10, 3.0))]


def test_t_interval_matches_hand_computation():
    ci = t_interval([0.8, 0.9, 1.0], 0.95)
    half = T_975_DF2 * 0.1 / math.sqrt(3)  # sample sd of (0.8, 0.9, 1.0) is 0.1
    assert ci.mean == pytest.approx(0.9)
    assert (ci.low, ci.high) == (pytest.approx(0.9 - half), pytest.approx(0.9 + half))
    assert ci.n == 3
    one = t_interval([0.7])
    assert one.mean == 0.7 and math.isnan(one.low) and math.isnan(one.high)
    assert math.isnan(t_interval([]).mean)


def test_aggregate_method_matches_hand_computation(three_folds):
    table = aggregate_method(three_folds, "fever", "tpatcher", 0.95).set_index("metric")
    half = T_975_DF2 * 0.1 / math.sqrt(3)
    assert table.loc["SR", "mean"] == pytest.approx(0.9)
    assert table.loc["SR", "ci_low"] == pytest.approx(0.9 - half)
    assert table.loc["SR", "ci_high"] == pytest.approx(0.9 + half)
    # patches per edit per fold: 10/10, 30/20, 10/5 = 1, 1.5, 2 -> mean 1.5, sd 0.5
    assert table.loc["patches_per_edit", "mean"] == pytest.approx(1.5)
    assert table.loc["patches_per_edit", "ci_high"] == pytest.approx(1.5 + T_975_DF2 * 0.5 / math.sqrt(3))
    assert table.loc["seconds_per_edit", "mean"] == pytest.approx(3.0)
    assert table.loc["GR", "mean"] == pytest.approx(0.6)  # 0.5, 0.6, 0.7
    assert table.loc["n_edits", "mean"] == pytest.approx(35 / 3)
    assert set(table.drop(index=["SR_pooled", "GR_pooled"])["n_folds"]) == {3}
    assert table.loc["SR_pooled", "n_folds"] == 0      # these summaries carry no counts (older runs)
    assert set(table["protocol"]) == {PROTOCOL}
    assert set(table["task"]) == {"fever"} and set(table["method"]) == {"tpatcher"}


def test_fold_without_edits_is_left_out_of_rate_metrics(tmp_path, three_folds):
    empty = write(tmp_path, "s3.json", summary(3, None, 0, 0, None, GR=None))
    table = aggregate_method([*three_folds, empty], "fever", "tpatcher", 0.95).set_index("metric")
    assert table.loc["SR", "n_folds"] == 3 and table.loc["SR", "mean"] == pytest.approx(0.9)
    assert table.loc["TrainR", "n_folds"] == 4
    assert table.loc["n_edits", "mean"] == pytest.approx(35 / 4)


def test_mixed_protocols_are_refused(tmp_path, three_folds):
    other = write(tmp_path, "s3.json", summary(3, 0.9, 10, 10, 1.0, protocol="SR,GR:final;ER,TrainR,TestR:final"))
    with pytest.raises(DataFormatError, match="protocol") as err:
        aggregate_method([*three_folds, other], "fever", "tpatcher", 0.95)
    assert "must not be averaged" in str(err.value) and "s3.json" in str(err.value)


def test_combine_refuses_tables_with_different_protocols(tmp_path, three_folds):
    a = aggregate_method(three_folds, "fever", "tpatcher", 0.95)
    ft = [write(tmp_path, f"ft{k}.json", summary(k, 0.9, 10, 0, 1.0, method="ft", protocol="SR:every-50"))
          for k in range(2)]
    b = aggregate_method(ft, "fever", "ft", 0.95)
    write_table(a, tmp_path / "a.csv")
    write_table(b, tmp_path / "b.csv")
    with pytest.raises(DataFormatError, match="must not be averaged"):
        combine([tmp_path / "a.csv", tmp_path / "b.csv"])
    write_table(a.assign(method="ft"), tmp_path / "c.csv")
    both = combine([tmp_path / "a.csv", tmp_path / "c.csv"])
    assert len(both) == 2 * len(a)


@pytest.mark.parametrize("change, message", [
    ({"SR": 1.5}, "'SR' = 1.5 lies outside"),
    ({"n_edits": -1}, "'n_edits' must be a non-negative integer"),
    ({"protocol": ""}, "'protocol' must be a non-empty string"),
    ({"GR": "high"}, "'GR' must be a number or null"),
])
def test_bad_summary_values_name_file_and_key(tmp_path, change, message):
    path = write(tmp_path, "summary.json", summary(0, 0.8, 10, 10, 2.0) | change)
    with pytest.raises(DataFormatError, match=message) as err:
        read_summary(path)
    assert str(path) in str(err.value)


def test_summary_missing_key_and_wrong_owner(tmp_path):
    bad = summary(0, 0.8, 10, 10, 2.0)
    del bad["TestR"]
    with pytest.raises(DataFormatError, match="missing key.*TestR"):
        read_summary(write(tmp_path, "a.json", bad))
    zsre = write(tmp_path, "b.json", summary(0, 0.8, 10, 10, 2.0, task="zsre"))
    with pytest.raises(DataFormatError, match="listed for task 'fever'"):
        aggregate_method([zsre], "fever", "tpatcher", 0.95)
    dup = [write(tmp_path, f"d{i}.json", summary(0, 0.8, 10, 10, 2.0)) for i in range(2)]
    with pytest.raises(DataFormatError, match="fold 0 already read"):
        aggregate_method(dup, "fever", "tpatcher", 0.95)


def edit_row(index: int, was_error: bool, success=None, gr=None, steps=0) -> dict:
    return {"index": index, "id": f"e{index}", "was_error": was_error, "success": success, "gr": gr,
            "n_neurons": int(was_error), "steps": steps, "seconds": 0.5 if was_error else 0.0}


def test_read_edits_checks_order_and_keys(tmp_path):
    path = tmp_path / "edits.jsonl"
    path.write_text(json.dumps(edit_row(0, True, True, 1.0)) + "\n" + json.dumps(edit_row(2, False)) + "\n")
    with pytest.raises(DataFormatError, match=r"edits.jsonl:2: key 'index' = 2, expected 1"):
        read_edits(path)
    path.write_text(json.dumps(edit_row(0, True, None, 1.0)) + "\n")
    with pytest.raises(DataFormatError, match=r":1: an edited example .* needs a boolean 'success'"):
        read_edits(path)
    path.write_text("{not json\n")
    with pytest.raises(DataFormatError, match=r":1: malformed JSON"):
        read_edits(path)


def test_running_rates_by_hand():
    edits = pd.DataFrame([edit_row(0, True, True, 1.0), edit_row(1, False), edit_row(2, True, False, 0.0),
                          edit_row(3, True, True, None), edit_row(4, True, True, 0.5)])
    rates = running_rates(edits)
    assert rates["n_edits"].tolist() == [1, 2, 3, 4]
    assert rates["SR"].tolist() == pytest.approx([1.0, 0.5, 2 / 3, 0.75])
    # GR of the third edit is undefined (no rephrase) and is skipped, not counted as 0.
    assert rates["GR"].tolist() == pytest.approx([1.0, 0.5, 0.5, 0.5])


def test_mean_band_interpolates_within_each_fold_and_drops_thin_points():
    fold_a = (np.array([10.0, 20.0, 30.0]), np.array([1.0, 0.8, 0.6]))
    fold_b = (np.array([10.0, 25.0]), np.array([0.9, 0.6]))
    band = mean_band([fold_a, fold_b], 0.95, min_fold_fraction=1.0).set_index("x")
    assert band.index.tolist() == [10.0, 20.0, 25.0]  # 30 is reached by fold a only
    # at x = 20 fold b interpolates 0.9 + (0.6 - 0.9) * 10 / 15 = 0.7
    assert band.loc[20.0, "mean"] == pytest.approx((0.8 + 0.7) / 2)
    assert band.loc[20.0, "high"] == pytest.approx(0.75 + T_975_DF1 * (0.1 / math.sqrt(2)) / math.sqrt(2))
    loose = mean_band([fold_a, fold_b], 0.95, min_fold_fraction=0.5).set_index("x")
    assert loose.loc[30.0, "n"] == 1 and math.isnan(loose.loc[30.0, "low"])


def test_firing_rates_by_hand():
    acts = PatchActivations(edit_acts=np.array([[2.0, -1.0, 0.5], [-3.0, 1.0, -2.0]], dtype=np.float32),
                            test_acts=np.array([[-1.0, 1.0], [-1.0, -1.0]], dtype=np.float32),
                            patch_edit=np.array([0, 2]))
    rates = firing_rates(acts)
    assert rates.own == pytest.approx(0.5)  # patch 0 fires on edit 0; patch 1 silent on edit 2
    assert rates.other == pytest.approx(2 / 4)  # (0,2)=0.5 and (1,1)=1.0 fire among 4 off-target cells
    assert rates.test == pytest.approx(1 / 4)


def test_read_activations_checks_shapes(tmp_path):
    path = tmp_path / "activations.npz"
    np.savez(path, edit_acts=np.zeros((2, 3), np.float32), test_acts=np.zeros((3, 4), np.float32),
             patch_edit=np.array([0, 1]))
    with pytest.raises(DataFormatError, match="row counts differ"):
        read_activations(path)
    np.savez(path, edit_acts=np.zeros((2, 3), np.float32), test_acts=np.zeros((2, 4), np.float32),
             patch_edit=np.array([0, 3]))
    with pytest.raises(DataFormatError, match="patch_edit values must index the 3 edits"):
        read_activations(path)


def test_cost_method_reads_edit_logs_and_benchmarks(tmp_path, three_folds):
    edits, benches = [], []
    for k, steps in enumerate([(100, 200), (50, 50), (10, 30)]):
        path = tmp_path / f"edits{k}.jsonl"
        rows = [edit_row(0, True, True, 1.0, steps[0]), edit_row(1, False), edit_row(2, True, True, 1.0, steps[1])]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        edits.append(path)
        bench = tmp_path / f"bench{k}.tsv"
        bench.write_text(f"s\th:m:s\tmax_rss\n{3600 * (k + 1)}\t1:00:00\t100\n")
        benches.append(bench)
    table = cost_method(three_folds, edits, benches, "fever", "tpatcher", 0.95).set_index("metric")
    assert table.loc["steps_per_edit", "mean"] == pytest.approx((150 + 50 + 20) / 3)
    assert table.loc["device_hours_per_fold", "mean"] == pytest.approx(2.0)  # 1, 2, 3 hours
    assert table.loc["device_hours_per_fold", "ci_low"] == pytest.approx(2.0 - T_975_DF2 * 1.0 / math.sqrt(3))
    (tmp_path / "bench0.tsv").write_text("h:m:s\n1:00:00\n")
    with pytest.raises(DataFormatError, match="bench0.tsv.*'s' column"):
        cost_method(three_folds, edits, benches, "fever", "tpatcher", 0.95)


def test_main_table_layout_and_cells(three_folds):
    table = aggregate_method(three_folds, "fever", "tpatcher", 0.95)
    rendered = main_table(table, ["tpatcher", "ft", "ftkl"], ["fever", "zsre"], "ci")
    lines = rendered.markdown.splitlines()
    assert lines[0].startswith("| Method | FEVER SR | FEVER GR | FEVER ER | FEVER TrainR | FEVER TestR |")
    half = T_975_DF2 * 0.1 / math.sqrt(3)
    assert lines[2].startswith(f"| T-Patcher | 0.900 ± {half:.3f} |")
    assert "folds per cell: 3" in rendered.markdown and PROTOCOL in rendered.markdown
    assert "\\multicolumn{5}{c}{FEVER}" in rendered.latex
    assert f"$0.900_{{\\pm {half:.3f}}}$" in rendered.latex
    assert "<td>T-Patcher</td>" in rendered.html
    single = aggregate_method(three_folds[:1], "fever", "tpatcher", 0.95)
    assert "| T-Patcher | 0.800 | 0.500 |" in main_table(single, ["tpatcher"], ["fever"], "ci").markdown


def test_cost_table_rows(tmp_path, three_folds):
    table = aggregate_method(three_folds, "fever", "tpatcher", 0.95)
    rendered = cost_table(table, ["tpatcher"], ["fever"], "ci")
    assert "| FEVER | T-Patcher | 11.7 ± " in rendered.markdown
    assert "device-h / fold" in rendered.markdown and "—" in rendered.markdown  # no benchmark rows here


def test_report_settings_and_config_section():
    for files in [(), (REPO / "config" / "ci.yaml",), (REPO / "config" / "paper.yaml",)]:
        config = load_config(*files, base=REPO / "config.yaml")
        settings = ReportSettings.from_config(config["report"])
        assert settings.interval_level == 0.95
    assert ReportSettings.from_config(None) == ReportSettings()
    with pytest.raises(ConfigError, match="report.figures.*unknown figure 'heatmap'"):
        ReportSettings.from_config({"figures": ["heatmap"]})
    config = load_config(base=REPO / "config.yaml")
    config["report"]["interval_levl"] = 0.9
    from editlab.config import validate_config
    with pytest.raises(ConfigError, match="report.interval_levl.*did you mean 'interval_level'"):
        validate_config(config)


def test_read_edit_speed_checks_every_case(tmp_path):
    good = {c: {"reference_s_per_edit": 2.0, "cached_s_per_edit": 0.5, "ratio": 4.0}
            for c in ("fever", "zsre", "fever_base", "zsre_base")}
    path = write(tmp_path, "edit_speed.json", good)
    assert read_edit_speed(path)["zsre_base"]["ratio"] == 4.0
    del good["zsre_base"]
    with pytest.raises(DataFormatError, match="missing object 'zsre_base'"):
        read_edit_speed(write(tmp_path, "edit_speed.json", good))
    good["zsre_base"] = {"reference_s_per_edit": 2.0, "cached_s_per_edit": 0, "ratio": 4.0}
    with pytest.raises(DataFormatError, match="'zsre_base.cached_s_per_edit' must be a positive number"):
        read_edit_speed(write(tmp_path, "edit_speed.json", good))


def test_pooled_sr_and_gr_as_the_reference_get_res(tmp_path):
    """Departure 7: next to the mean of per-fold means, the reference's get_res (sme_dataset.py:227-241): SR
    over all edits of all folds, GR over all rephrases (sum acc x n / sum n)."""
    folds = [write(tmp_path, "p0.json", summary(0, 0.8, 10, 10, 2.0, counts={"successes": 8, "edits": 10,
                                                                              "gr_correct": 3.0, "gr_rephrases": 10})),
             write(tmp_path, "p1.json", summary(1, 1.0, 2, 2, 2.0, counts={"successes": 2, "edits": 2,
                                                                           "gr_correct": 2.0, "gr_rephrases": 2}))]
    table = aggregate_method(folds, "fever", "tpatcher", 0.95).set_index("metric")
    assert table.loc["SR", "mean"] == pytest.approx(0.9)                 # (0.8 + 1.0) / 2
    assert table.loc["SR_pooled", "mean"] == pytest.approx(10 / 12)      # (8 + 2) / (10 + 2)
    assert table.loc["GR_pooled", "mean"] == pytest.approx(5 / 12)       # (3 + 2) / (10 + 2)
    assert table.loc["SR_pooled", "n_folds"] == 2 and math.isnan(table.loc["SR_pooled", "ci_low"])
    pooled = main_table(table.reset_index(), ["tpatcher"], ["fever"], "ci", aggregation="pooled").markdown
    assert "| T-Patcher | 0.833 | 0.417 |" in pooled and "pooled as the reference's get_res" in pooled
    default = main_table(table.reset_index(), ["tpatcher"], ["fever"], "ci").markdown
    assert "| T-Patcher | 0.900 ± " in default and "mean across folds (editlab's aggregation)" in default


def test_stream_counts_pool_rephrases_per_edit():
    from editlab.sme.metrics import pooled_counts

    records = [{"was_error": True, "success": True, "gr": 0.5, "n_gr": 4},
               {"was_error": True, "success": False, "gr": 1.0, "n_gr": 1},
               {"was_error": False, "success": None, "gr": None, "n_gr": 0},
               {"was_error": True, "success": True, "gr": None, "n_gr": 0}]
    assert pooled_counts(records) == {"successes": 2, "edits": 3, "gr_correct": 3.0, "gr_rephrases": 5}
