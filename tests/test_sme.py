"""The SME fold runner: output contract, editing only current mistakes, determinism, bad input, and an
end-to-end workflow run on config/ci.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import copy_finished, run_snakemake
from test_tpatcher import ARCH, _fever, _zsre

from editlab.config import load_config
from editlab.errors import ConfigError, DataFormatError
from editlab.models.build import save_base_model
from editlab.sme.metrics import PROTOCOL, stream_metrics
from editlab.sme.runner import run_stream

REPO = Path(__file__).resolve().parents[1]
EDIT_KEYS = {"index", "id", "was_error", "success", "gr", "n_neurons", "steps", "seconds"}
SUMMARY_KEYS = {"SR", "GR", "ER", "TrainR", "TestR", "n_edits", "n_patches", "seconds_per_edit", "protocol", "task",
                "method", "fold", "n_visited", "train_acc_before", "train_acc_after", "test_acc_before",
                "test_acc_after", "path"}
CURVE_KEYS = {"n_edits", "SR", "GR", "ER", "TrainR", "TestR"}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_stream_metrics_by_hand():
    records = [{"was_error": False, "success": None, "gr": None},
               {"was_error": True, "success": True, "gr": 0.5},
               {"was_error": True, "success": False, "gr": None}]
    acc = {"train_before": 0.8, "train_after": 0.6, "test_before": 0.0, "test_after": 0.1}
    m = stream_metrics(records, [True, True], acc)
    assert m == {"n_edits": 2, "SR": 0.5, "GR": 0.5, "ER": 1.0, "TrainR": pytest.approx(0.75), "TestR": None}


def _write_world(tmp: Path, task: str) -> dict:
    """Cao-format files, id lists and a saved tiny model: a complete input set for one stream."""
    model, tok, examples = (_fever if task == "fever" else _zsre)()
    records = []
    for ex in examples:
        output = [{"answer": a, "provenance": [{"title": "t"}]} for a in ex.answers]
        records.append({"id": ex.id, "input": ex.input, "output": output, "rephrases": list(ex.rephrases)})
    data = tmp / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    ids = [e.id for e in examples]
    files = {"train_data": str(data), "dev_data": str(data)}
    for name, part in {"trainr": ids, "test": ids, "memory": ids[4:], "val": ids[5:], "fold0": ids[:4]}.items():
        (tmp / f"{name}.txt").write_text("\n".join(part) + "\n")
        files[name] = str(tmp / f"{name}.txt")
    save_base_model(model, tok, tmp / "model")
    files["base_model"] = str(tmp / "model")
    files["folds"] = [files.pop("fold0")]
    return files


def _config(**sme_overrides) -> dict:
    config = load_config(REPO / "config" / "ci.yaml")
    config["sme"]["tpatcher"].update(max_steps=200, val_every=10, val_start=20, memory_coef=0.5)
    config["sme"]["tpatcher"]["zsre"]["memory_coef"] = 0.5
    config["sme"].update(checkpoint_every=2, n_test_shown=4, **sme_overrides)
    for task in ("fever", "zsre"):
        config["base"][task]["train"]["max_length"] = 16
        config["base"][task]["model"]["arch"].update(ARCH)   # the fixture model's shape
    return config


def _read(out: Path):
    edits = [json.loads(line) for line in (out / "edits.jsonl").read_text().splitlines()]
    curve = [json.loads(line) for line in (out / "curve.jsonl").read_text().splitlines()]
    return edits, curve, json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_tpatcher_stream_contract_and_determinism(tmp_path, task):
    files = _write_world(tmp_path, task)
    config = _config()
    run_stream(task, "tpatcher", config, files, tmp_path / "a", "fold0")
    run_stream(task, "tpatcher", config, files, tmp_path / "b", "fold0")
    edits, curve, summary = _read(tmp_path / "a")
    edits_b, curve_b, summary_b = _read(tmp_path / "b")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("seconds", "peak_rss_mb")} for r in rows]  # noqa: E731
    assert strip(edits) == strip(edits_b) and curve == curve_b
    assert {k: v for k, v in summary.items() if "seconds" not in k} == \
           {k: v for k, v in summary_b.items() if "seconds" not in k}

    n = 4
    assert [e["index"] for e in edits] == list(range(n)) and len(edits) == summary["n_visited"] == n
    for e in edits:
        assert EDIT_KEYS <= set(e)
        if not e["was_error"]:      # a right example is never edited
            assert e["success"] is None and e["gr"] is None and e["n_neurons"] == 0 and e["steps"] == 0
        else:
            assert e["n_neurons"] >= 1 and e["steps"] >= 1 and isinstance(e["success"], bool)
    assert SUMMARY_KEYS <= set(summary) and summary["protocol"] == PROTOCOL and summary["path"] == "cached"
    n_edits = sum(e["was_error"] for e in edits)
    assert n_edits >= 2 and summary["n_edits"] == n_edits
    assert summary["n_patches"] == sum(e["n_neurons"] for e in edits)
    assert summary["SR"] == pytest.approx(np.mean([e["success"] for e in edits if e["was_error"]]))
    assert all(CURVE_KEYS <= set(c) for c in curve) and curve[-1]["n_edits"] == n_edits
    assert [c["n_edits"] for c in curve[:-1]] == list(range(2, n_edits + 1, 2))[:len(curve) - 1]
    acts = np.load(tmp_path / "a" / "activations.npz")
    assert acts["edit_acts"].shape == (summary["n_patches"], n_edits) and acts["edit_acts"].dtype == np.float32
    assert acts["test_acts"].shape == (summary["n_patches"], 4)
    assert acts["patch_edit"].tolist() == sorted(acts["patch_edit"].tolist())
    assert set(acts["patch_edit"].tolist()) <= set(range(n_edits))
    assert np.isfinite(acts["edit_acts"]).all() and np.isfinite(acts["test_acts"]).all()


def test_first_example_was_error_matches_the_base_model(tmp_path):
    from editlab.editors.site import ffn_site
    from editlab.editors.task_ops import task_ops
    from editlab.models.build import load_base_model
    from editlab.sme.paths import execution_path
    from editlab.sme.runner import load_stream_data

    files = _write_world(tmp_path, "fever")
    run_stream("fever", "ft", _config(), files, tmp_path / "out", "fold0")
    edits, _, summary = _read(tmp_path / "out")
    model, tok = load_base_model("fever", files["base_model"])
    data = load_stream_data("fever", files)
    path = execution_path("reference", ffn_site("fever", model), task_ops("fever", tok, model, {}), "cpu")
    assert edits[0]["was_error"] == (not path.correct(data.stream[:1])[0])
    assert summary["n_patches"] == 0 and all(e["n_neurons"] == 0 for e in edits)
    assert not (tmp_path / "out" / "activations.npz").exists()


def test_bad_inputs_name_the_problem(tmp_path):
    files = _write_world(tmp_path, "fever")
    with pytest.raises(ConfigError, match="sme.path"):
        run_stream("fever", "tpatcher", _config(path="fast"), files, tmp_path / "o", "fold0")
    files["folds"] = [str(tmp_path / "missing.txt")]
    with pytest.raises(DataFormatError, match="missing.txt"):
        run_stream("fever", "tpatcher", _config(), files, tmp_path / "o", "fold0")
    (tmp_path / "bad.txt").write_text("nope\n")
    files["folds"] = [str(tmp_path / "bad.txt")]
    with pytest.raises(DataFormatError, match="bad.txt.*'nope'"):
        run_stream("fever", "tpatcher", _config(), files, tmp_path / "o", "fold0")
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.slow
def test_workflow_runs_sme_folds_on_ci(ci_finished, tmp_path):
    """Real snakemake on config/ci.yaml (data -> splits -> base -> fold 0 of each method and task): the
    session's shared run of the whole ci workflow (conftest.ci_finished)."""
    work = ci_finished   # read only
    targets = [f"results/ci/sme/{t}/{m}/fold0/summary.json" for t in ("fever", "zsre") for m in ("tpatcher", "ft", "ftkl")]
    for target in targets:
        summary = json.loads((work / target).read_text())
        assert summary["protocol"] == PROTOCOL and summary["n_visited"] > 0 and summary["path"] == "cached"
        edits = (work / target).with_name("edits.jsonl").read_text().splitlines()
        assert len(edits) == summary["n_visited"]
    assert (work / "results/ci/sme/fever/tpatcher/fold0/activations.npz").exists()
    for t in ("fever", "zsre"):
        for m in ("tpatcher", "ft", "ftkl"):
            assert (work / f"benchmarks/out/ci/sme/{t}/{m}/fold0.tsv").exists()
    # Nothing left to do: the rules' inputs (library modules included) are all accounted for.
    work = copy_finished(ci_finished, tmp_path / "wf")
    dry = run_snakemake(work, "--configfile", "config/ci.yaml", "-n", "--", *targets)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_gr_samples_from_every_rephrase_the_question_included():
    """Departure 6: as the reference (zsre_dataloader.py:58-60), GR samples its 5 from all rephrases, the
    question itself included where the file lists it; `gr_include_input: false` leaves it out."""
    from editlab.data.records import Example
    from editlab.sme.runner import equivalents

    ex = Example("z1", "who wrote it?", ("ann",), ("who wrote it?", "author of it?"))
    assert sorted(e.input for e in equivalents(ex, 5, 0)) == ["author of it?", "who wrote it?"]
    assert [e.input for e in equivalents(ex, 5, 0, include_input=False)] == ["author of it?"]
    many = Example("z2", "q?", ("a",), ("q?",) + tuple(f"r{i}?" for i in range(9)))
    picked = [e.input for e in equivalents(many, 5, 0)]
    assert len(picked) == 5 and picked == [e.input for e in equivalents(many, 5, 0)]   # seeded


def test_split_keeps_an_edit_whose_only_rephrase_is_the_question():
    """The reference keeps such an edit (its GR is then measured on the question)."""
    from editlab.data.records import Example
    from editlab.data.splits import SplitConfig, make_splits

    data = [Example(f"t{i}", f"q{i}?", ("a",), (f"q{i}?",)) for i in range(100)]
    cfg = SplitConfig(train=0.8, val=0.1, edit=0.1, trainr_size=10, memory_size=10, n_folds=2)
    assert len(make_splits(data, [], cfg, seed=0).edit) == 10


def test_long_stream_stops_at_max_edits_and_logs_its_growth(tmp_path):
    """sme.long_stream.max_edits (config/scale.yaml) stops the long stream after that many edits, per method;
    a fold ignores it. Every edit logs the patches after it (the running sum of n_neurons), T-Patcher's
    memory rows (each edit adds its 8-copy update) and the peak resident memory so far."""
    files = _write_world(tmp_path, "zsre")
    config = _config()
    config["sme"]["long_stream"] = {"enabled": True, "methods": ["tpatcher", "ft"], "max_edits": {"tpatcher": 2}}
    run_stream("zsre", "tpatcher", config, files, tmp_path / "long", "long")
    edits, curve, summary = _read(tmp_path / "long")
    assert summary["n_edits"] == 2 and curve[-1]["n_edits"] == 2 and edits[-1]["was_error"]
    assert summary["n_visited"] == len(edits) < 4 or sum(e["was_error"] for e in edits) == 2
    done = [e for e in edits if e["was_error"]]
    assert [e["n_patches"] for e in done] == list(np.cumsum([e["n_neurons"] for e in done]))
    assert done[0]["memory_rows"] < done[1]["memory_rows"]
    assert all(e["peak_rss_mb"] > 0 for e in done)
    assert not any("peak_rss_mb" in e for e in edits if not e["was_error"])
    run_stream("zsre", "tpatcher", config, files, tmp_path / "fold", "fold0")   # a fold visits everything
    assert _read(tmp_path / "fold")[2]["n_visited"] == 4
    run_stream("zsre", "ft", config, files, tmp_path / "ft", "long")            # no limit for ft here
    assert _read(tmp_path / "ft")[2]["n_visited"] == 4
    config["sme"]["long_stream"]["max_edits"] = 0
    with pytest.raises(ConfigError, match=r"sme.long_stream.max_edits': must be a positive integer"):
        run_stream("zsre", "tpatcher", config, files, tmp_path / "bad", "long")


def test_checkpoint_reuses_the_edited_sets_queries_bit_for_bit():
    """CachedPath.correct_growing: the checkpoint's ER over the edits so far reuses the queries of its full
    chunks; the answers are correct()'s, bit for bit, however the list and the patches grow."""
    from test_tpatcher import _setup

    from editlab.editors.tpatcher import TPatcher, TPatcherParams

    site, ops, path, examples = _setup("zsre")
    path.batch_size = 2
    editor = TPatcher(TPatcherParams(max_steps=20, val_every=10, val_start=20), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    cache: list = []
    for n in range(1, len(examples) + 1):
        grown = examples[:n]
        assert path.correct_growing(grown, cache) == path.correct(grown)
        assert len(cache) == n // 2
        if n <= 2:
            editor.edit(examples[n - 1], n - 1)   # patches change the answers, not the cached queries
    fresh = path.chunked_queries(examples[:len(cache) * 2])
    assert len(fresh) == len(cache) and all(torch.equal(a[0], b[0]) for a, b in zip(cache, fresh))


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_cached_path_reuses_a_single_examples_queries(task):
    """A stream checks a mistake alone, edits it and checks it again: the cached path runs the frozen layers
    once for the three, with the bits of a fresh pass, and recomputes for any other example or batch."""
    from test_tpatcher import _setup

    from editlab.editors.tpatcher import TPatcher, TPatcherParams

    site, _, path, examples = _setup(task)
    fresh = _setup(task)[2]
    calls = []   # batch sizes of the eval-mode passes (an edit's train-mode dropout draws are its own)
    capture = site.capture

    def counted(batch, training=False):
        if not training:
            calls.append(batch["input_ids"].shape[0])
        return capture(batch, training)

    site.capture = counted
    editor = TPatcher(TPatcherParams(max_steps=20, val_every=10, val_start=20), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    calls.clear()
    path.correct([examples[0]])
    editor.edit(examples[0], 0)
    path.correct([examples[0]])
    assert len(calls) == 1
    q, enc = path.queries([examples[0]])
    q_fresh, enc_fresh = fresh.queries([examples[0]])
    assert torch.equal(q, q_fresh) and torch.equal(enc.labels, enc_fresh.labels)
    path.queries([examples[1]])
    path.queries([examples[0]])
    path.queries(examples[:2])
    assert len(calls) == 4


def test_scale_stream_figure_from_tiny_long_streams(tmp_path):
    """The scale profile's figure and its cost summary on real (tiny) long streams of both methods."""
    from editlab.plots.scale_stream import cost_growth, edit_costs, plot_scale_stream, seconds_at_patches
    from editlab.results.settings import ReportSettings

    runs = {}
    for task in ("fever", "zsre"):
        (tmp_path / task).mkdir()
        files = _write_world(tmp_path / task, task)
        config = _config()
        config["sme"]["tpatcher"]["memory_unique"] = True
        runs[task] = {}
        for method in ("tpatcher", "ft"):
            out = tmp_path / task / method
            run_stream(task, method, config, files, out, "long")
            runs[task][method] = (str(out / "edits.jsonl"), str(out / "curve.jsonl"))
    costs = edit_costs(runs["zsre"]["tpatcher"][0])
    assert list(costs.columns) == ["edit", "n_patches", "seconds", "peak_rss_mb"] and len(costs) >= 2
    assert costs["n_patches"].is_monotonic_increasing and (costs["peak_rss_mb"] > 0).all()
    growth = cost_growth(costs)
    assert growth["n_edits"] == len(costs) and growth["ratio"] == pytest.approx(growth["last"] / growth["first"])
    at = seconds_at_patches(costs, [1, 10 ** 6])
    assert at[1] is not None and at[10 ** 6] is None
    pdf, png = tmp_path / "scale_stream.pdf", tmp_path / "scale_stream.png"
    plot_scale_stream(runs, ["tpatcher", "ft"], ReportSettings.from_config({"dpi": 60}), pdf, png, "test")
    assert pdf.read_bytes()[:4] == b"%PDF" and png.read_bytes()[:4] == b"\x89PNG"
