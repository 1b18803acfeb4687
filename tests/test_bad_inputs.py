"""Bad input is refused with one message naming the file/key and the problem, and leaves no output.

One test per row of docs/bad_inputs.md that is not already covered by test_readers.py, test_config.py,
test_sme.py or test_patchfile.py (the table names those).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, copy_workflow, run_snakemake
from test_sme import _config, _write_world
from transformers import BertForSequenceClassification

from editlab.data.records import Example
from editlab.data.splits import SplitConfig, make_splits
from editlab.errors import ConfigError, DataFormatError, EditlabError
from editlab.models.build import load_base_model, save_base_model, tiny_bert
from editlab.models.tokenizer import train_bert_tokenizer
from editlab.sme.runner import run_stream


def single_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text, text
    return text


def test_checkpoint_not_matching_config_architecture(tmp_path):
    files = _write_world(tmp_path, "fever")
    config = _config()
    config["base"]["fever"]["model"]["arch"]["hidden_size"] = 64   # the fixture checkpoint is 32 wide
    with pytest.raises(EditlabError) as err:
        run_stream("fever", "tpatcher", config, files, tmp_path / "out", "fold0")
    msg = single_line(err.value)
    assert files["base_model"] in msg and "'base.fever.model.arch.hidden_size'" in msg
    assert "checkpoint has hidden_size=32, config says 64" in msg
    assert not (tmp_path / "out").exists()


def test_checkpoint_of_the_other_task(tmp_path):
    files = _write_world(tmp_path, "zsre")
    (tmp_path / "fever").mkdir()
    files["base_model"] = _write_world(tmp_path / "fever", "fever")["base_model"]   # a BERT for the BART task
    with pytest.raises(EditlabError) as err:
        run_stream("zsre", "tpatcher", _config(), files, tmp_path / "out", "fold0")
    msg = single_line(err.value)
    assert files["base_model"] in msg and "cannot load the zsre base model" in msg
    assert not (tmp_path / "out").exists()


def test_fever_checkpoint_with_two_labels(tmp_path):
    tok = train_bert_tokenizer(["a b c"])
    model = tiny_bert({"hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64}, len(tok))
    model.config.num_labels = 2
    model = BertForSequenceClassification(model.config)   # a two-class head, e.g. a 3-way FEVER checkpoint's
    save_base_model(model, tok, tmp_path / "model")
    with pytest.raises(EditlabError, match=r"model: the FEVER base model must have one output logit, the "
                                           r"checkpoint has num_labels=2"):
        load_base_model("fever", tmp_path / "model", expected={"source": "scratch", "arch": {}})


def test_base_model_directory_missing(tmp_path):
    with pytest.raises(EditlabError, match=r"nowhere: not a base model directory \(no config.json\)"):
        load_base_model("fever", tmp_path / "nowhere")


def test_model_id_not_loadable_offline(tmp_path):
    """A hub id that is not in the (empty) local cache, offline: one line naming the id, no network."""
    code = ("from editlab.models.build import load_hub_model\n"
            "from editlab.errors import EditlabError\n"
            "try:\n    load_hub_model('fever', 'editlab-tests/no-such-model')\n"
            "except EditlabError as exc:\n    print(exc)\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == 1, proc.stdout + proc.stderr
    assert lines[0].startswith("cannot load model 'editlab-tests/no-such-model' for fever (HF_HUB_OFFLINE=1")


def test_fold_example_with_empty_equivalence_set(tmp_path):
    files = _write_world(tmp_path, "fever")
    rows = [json.loads(line) for line in Path(files["train_data"]).read_text().splitlines()]
    first_edit = Path(files["folds"][0]).read_text().split()[0]
    for row in rows:
        if row["id"] == first_edit:
            row["rephrases"] = []   # (rephrases holding only the input are valid: the reference samples GR from them)
    Path(files["train_data"]).write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataFormatError) as err:
        run_stream("fever", "tpatcher", _config(), files, tmp_path / "out", "fold0")
    msg = single_line(err.value)
    assert msg.startswith(files["folds"][0]) and f"edit example {first_edit!r} has no rephrases" in msg
    assert not (tmp_path / "out").exists()
    config = _config()
    config["splits"]["fever"]["edit_needs_rephrases"] = False   # the documented switch lets it through
    run_stream("fever", "tpatcher", config, files, tmp_path / "out", "fold0")
    assert (tmp_path / "out" / "summary.json").exists()


def test_splits_explain_edit_examples_dropped_for_empty_equivalence_sets():
    examples = [Example(f"e{i}", f"claim {i}", ("SUPPORTS",), ()) for i in range(50)]
    cfg = SplitConfig(train=0.8, val=0.1, edit=0.1, trainr_size=5, memory_size=5, n_folds=2)
    with pytest.raises(ConfigError) as err:
        make_splits(examples, examples, cfg, seed=0)
    msg = single_line(err.value)
    assert "0 edit examples cannot make 2 folds (5 edit examples dropped for having no rephrases" in msg


# -- real snakemake jobs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ci_data(tmp_path_factory):
    """A workflow copy with the ci data files generated by the real mini_data rule."""
    work = copy_workflow(tmp_path_factory.mktemp("wf"))
    run_snakemake(work, "--configfile", "config/ci.yaml", "--", "results/ci/data/world.json")
    return work


def one_editlab_line(proc: subprocess.CompletedProcess) -> str:
    """The job failed with exactly one `editlab: error:` line on stderr and no Python traceback."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("editlab: error: ")]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def relabel_first(text: str, label: str) -> str:
    lines = text.splitlines(keepends=True)
    first = json.loads(lines[0])
    first["output"][0]["answer"] = label
    return json.dumps(first) + "\n" + "".join(lines[1:])


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
@pytest.mark.parametrize("name, corrupt, problem", [
    ("truncated", lambda text: text[: len(text) - 40], ":{n}: malformed JSON"),
    ("unknown_label", lambda text: relabel_first(text, "NOT ENOUGH INFO"), ":1: unknown FEVER label 'NOT ENOUGH INFO'"),
])
def test_splits_job_stops_on_bad_jsonl(ci_data, name, corrupt, problem):
    data = ci_data / "results/ci/data/fever/fever-train-kilt.jsonl"
    good = data.read_text()
    try:
        data.write_text(corrupt(good))
        proc = run_snakemake(ci_data, "--configfile", "config/ci.yaml", "--rerun-triggers", "mtime", "--",
                             "results/ci/splits/fever/train.txt", check=False)
        line = one_editlab_line(proc)
        expected = problem.format(n=len(good.splitlines()))
        assert f"results/ci/data/fever/fever-train-kilt.jsonl{expected}" in line, line
        assert not list((ci_data / "results/ci/splits").glob("fever/*.txt"))   # nothing half-written
        assert line.removeprefix("editlab: error: ") in (ci_data / "logs/ci/splits/fever.log").read_text()
    finally:
        data.write_text(good)


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
@pytest.mark.parametrize("override, message", [
    ({"sede": 1}, "invalid config: config key 'sede': unknown key (did you mean 'seed'?)"),
    ({"splits": {"fever": {"n_folds": "two"}}}, "config key 'splits.fever.n_folds': 'two' is not of type 'integer'"),
])
def test_workflow_refuses_bad_config_in_one_line(ci_data, override, message):
    (ci_data / "bad.yaml").write_text(yaml.safe_dump(override))
    proc = run_snakemake(ci_data, "--configfile", "config/ci.yaml", "bad.yaml", "-n", check=False)
    line = one_editlab_line(proc)
    assert line == f"editlab: error: {message}" or message in line, line
