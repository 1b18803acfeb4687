"""Bad input is refused with one message naming the file/key and the problem, and leaves no output.

One test per row of docs/bad_inputs.md that is not already covered by test_readers.py, test_config.py,
test_sme.py or test_patchfile.py (the table names those).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, copy_workflow, run_snakemake
from test_sme import _config, _write_world
from transformers import BertForSequenceClassification

from editlab.cli import main as cli_main
from editlab.data.records import Example
from editlab.data.splits import SplitConfig, make_splits
from editlab.errors import ConfigError, DataFormatError, EditlabError, FileWriteError
from editlab.io import read_ids, write_ids
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


# -- issue 17: nothing lost, nothing silently wrong --------------------------------------------------------
@pytest.fixture(scope="module")
def fever_fold(tmp_path_factory) -> Path:
    """A fixture world with a finished T-Patcher fold (patches.safetensors / patches.json beside it)."""
    root = tmp_path_factory.mktemp("fold")
    files = _write_world(root, "fever")
    run_stream("fever", "tpatcher", _config(), files, root / "fold", "fold0")
    return root


def _copy_fold(src: Path, dst: Path) -> tuple[Path, Path]:
    shutil.copytree(src / "fold", dst / "fold")
    shutil.copytree(src / "model", dst / "model")
    return dst / "model", dst / "fold"


def tree(path: Path) -> dict[str, bytes]:
    """Every file below `path` with its bytes (hidden ones too): what must survive a refused command."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def cli_line(capsys, *args: object) -> str:
    """`editlab ...` (the real entry point, in this process): exit 1 with one `editlab: error:` line."""
    capsys.readouterr()
    code = cli_main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("editlab: error: "), err
    return err[0].removeprefix("editlab: error: ")


def test_patch_out_that_is_not_empty_is_refused_and_every_file_kept(fever_fold, tmp_path, capsys):
    base, fold = _copy_fold(fever_fold, tmp_path)
    patch = fold / "patches.safetensors"
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.tex").write_text("precious")
    (mine / "sub" / ".hidden").write_bytes(b"\x00\x01")
    before_mine, before_fold, before_base = tree(mine), tree(fold), tree(base)
    assert cli_line(capsys, "patch", "apply", base, patch, "--out", mine) == \
        f"{mine}: directory exists and is not empty; choose a new --out, or pass --force to replace it (its files are deleted)"
    # the fold directory itself (on main this deleted edits.jsonl, summary.json, ... and exited 0): named as the
    # input it is, the reason --force would not help either
    assert cli_line(capsys, "patch", "apply", base, patch, "--out", fold).startswith(
        f"{fold}: --out is (or contains) the input {fold}")
    # even with --force, never the input itself or a folder holding it
    for out in (fold, tmp_path, base):
        assert cli_line(capsys, "patch", "apply", base, patch, "--out", out, "--force").startswith(
            f"{out}: --out is (or contains) the input")
    assert cli_main(["patch", "apply", str(base), str(patch), "--out", str(tmp_path / "patched")]) == 0
    assert cli_line(capsys, "patch", "revert", tmp_path / "patched", "--out", mine).startswith(
        f"{mine}: directory exists and is not empty")
    (tmp_path / "a_file").write_text("x")
    assert cli_line(capsys, "patch", "apply", base, patch, "--out", tmp_path / "a_file") == \
        f"{tmp_path / 'a_file'}: exists and is not a directory (--out names the directory to write)"
    assert (tmp_path / "a_file").read_text() == "x"
    assert tree(mine) == before_mine and tree(fold) == before_fold and tree(base) == before_base
    # an empty directory is fine without --force; --force replaces a non-empty one whole, leaving nothing aside
    (tmp_path / "empty").mkdir()
    assert cli_main(["patch", "apply", str(base), str(patch), "--out", str(tmp_path / "empty")]) == 0
    assert cli_main(["patch", "apply", str(base), str(patch), "--out", str(mine), "--force"]) == 0
    assert tree(mine) == tree(tmp_path / "patched") == tree(tmp_path / "empty")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_patch_arguments_that_are_wrong_are_one_line(fever_fold, tmp_path, capsys):
    base, fold = _copy_fold(fever_fold, tmp_path)
    meta_path = fold / "patches.json"
    meta_text = meta_path.read_text()
    meta = json.loads(meta_text)
    (tmp_path / "empty").mkdir()
    assert cli_line(capsys, "patch", "inspect", tmp_path / "empty") == \
        f"{tmp_path / 'empty'}: is a directory without patches.json (give the patch file or its directory)"
    assert cli_main(["patch", "inspect", str(fold)]) == 0   # the directory holding the patch is accepted

    def with_meta(**fields: object) -> None:
        meta_path.write_text(json.dumps({**meta, **fields}, indent=2, sort_keys=True, ensure_ascii=False))

    with_meta(n_neurons="eleven")
    assert cli_line(capsys, "patch", "inspect", meta_path) == f"{meta_path}: field 'n_neurons' should be int, got \"eleven\""
    with_meta(neurons={"0": 1})
    assert cli_line(capsys, "patch", "inspect", meta_path).startswith(f"{meta_path}: field 'neurons' should be list")
    with_meta(base_model="abc")
    assert cli_line(capsys, "patch", "apply", base, meta_path, "--out", tmp_path / "o").startswith(
        f"{meta_path}: field 'base_model' should be dict")
    with_meta(task="févér")
    text = meta_path.read_text(encoding="utf-8")
    meta_path.write_bytes(text.encode("latin-1"))   # saved by an editor in latin-1
    bad_line = next(i for i, ln in enumerate(text.splitlines(), start=1) if "févér" in ln)
    assert cli_line(capsys, "patch", "inspect", meta_path) == f"{meta_path}:{bad_line}: not UTF-8"
    meta_path.write_text(meta_text)
    # the base model directory
    assert cli_line(capsys, "patch", "apply", fold / "edits.jsonl", fold, "--out", tmp_path / "o") == \
        f"{fold / 'edits.jsonl'}: not a directory"
    good_config = (base / "config.json").read_bytes()
    (base / "config.json").write_text("[1, 2]")
    assert cli_line(capsys, "patch", "apply", base, fold, "--out", tmp_path / "o") == \
        f"{base / 'config.json'}: expected a JSON object, got list"
    (base / "config.json").write_bytes(b'{\n  "model_type": "b\xe9rt"\n}\n')
    assert cli_line(capsys, "patch", "apply", base, fold, "--out", tmp_path / "o") == f"{base / 'config.json'}:2: not UTF-8"
    (base / "config.json").write_bytes(good_config)
    # predict: inputs not UTF-8 / a directory, --out a directory
    assert cli_main(["patch", "apply", str(base), str(fold), "--out", str(tmp_path / "patched")]) == 0
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "a", "input": "x"}\n{"id": "b", "input": "\xff"}\n')
    assert cli_line(capsys, "patch", "predict", tmp_path / "patched", tmp_path / "in.jsonl", "--out", tmp_path / "p") == \
        f"{tmp_path / 'in.jsonl'}:2: not UTF-8"
    assert cli_line(capsys, "patch", "predict", tmp_path / "patched", tmp_path / "empty", "--out", tmp_path / "p") == \
        f"{tmp_path / 'empty'}: is a directory"
    (tmp_path / "in.jsonl").write_text('{"id": "a", "input": "x"}\n')
    assert cli_line(capsys, "patch", "predict", tmp_path / "patched", tmp_path / "in.jsonl", "--out", tmp_path / "empty") == \
        f"{tmp_path / 'empty'}: is a directory, a file was to be written here"
    assert not (tmp_path / "o").exists() and not (tmp_path / "p").exists()


def _cao_lines(n: int = 6) -> list[dict]:
    return [{"id": f"f{i}", "input": f"claim {i}", "output": [{"answer": "SUPPORTS"}], "rephrases": [f"again {i}"]}
            for i in range(n)]


@pytest.mark.parametrize("name, content, problem", [
    ("latin-1", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _cao_lines()).replace(
        "claim 3", "café 3").encode("latin-1"), ":4: not UTF-8"),
    ("empty", b"", ": no records (the data file is empty)"),
    ("blank lines only", b"\n\n  \n", ": no records (the data file is empty)"),
    ("id with trailing space", "".join(json.dumps(r) + "\n" for r in _cao_lines()).replace('"f2"', '"f2 "').encode(),
     ":3: id 'f2 ' has leading or trailing whitespace (ids must survive the one-id-a-line split files)"),
    ("id with leading space", "".join(json.dumps(r) + "\n" for r in _cao_lines()).replace('"f2"', '" f1"').encode(),
     ":3: id ' f1' has leading or trailing whitespace (ids must survive the one-id-a-line split files)"),
    ("empty id", "".join(json.dumps(r) + "\n" for r in _cao_lines()).replace('"f5"', '""').encode(),
     ":6: empty id (ids must survive the one-id-a-line split files)"),
    ("id with a line break", "".join(json.dumps(r) + "\n" for r in _cao_lines()).replace('"f1"', '"f1\\nf2"').encode(),
     ":2: id 'f1\\nf2' contains a line break (ids must survive the one-id-a-line split files)"),
    ("boolean id", "".join(json.dumps(r) + "\n" for r in _cao_lines()).replace('"f0"', "true").encode(),
     ":1: field 'id' should be str/int, got True"),
], ids=lambda v: v if isinstance(v, str) and not v.startswith(":") else "")
def test_data_file_problems_name_file_and_line(tmp_path, name, content, problem):
    from editlab.data.readers import read_task_file

    path = tmp_path / "fever-train-kilt.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as err:
        read_task_file("fever", path)
    assert single_line(err.value) == f"{path}{problem}"


def test_other_data_readers_refuse_the_same(tmp_path):
    from editlab.data.readers import read_mend_zsre, read_task_file

    with pytest.raises(DataFormatError, match=rf"^{tmp_path}: is a directory$"):
        read_task_file("zsre", tmp_path)
    (tmp_path / "mend.json").write_text("[]")
    with pytest.raises(DataFormatError, match=r"mend.json: no records \(the data file is empty\)$"):
        read_mend_zsre(tmp_path / "mend.json")
    (tmp_path / "mend.json").write_bytes(b'[\n  {"src": "\xe9"}\n]')
    with pytest.raises(DataFormatError, match=r"mend.json:2: not UTF-8$"):
        read_mend_zsre(tmp_path / "mend.json")


@pytest.mark.parametrize("content, problem", [
    (b"f1\n f2 \n", ":2: id ' f2 ' has leading or trailing whitespace"),
    (b"f1\n\nf2\n", ":2: empty id"),
    (b"f1\r\nf2\r\n", ":1: Windows line ending (\\r\\n)"),
    (b"f1\nf\xe92\n", ":2: not UTF-8"),
], ids=["surrounding spaces", "blank line", "CRLF", "not UTF-8"])
def test_id_lists_are_read_exactly(tmp_path, content, problem):
    path = tmp_path / "fold0.txt"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as err:
        read_ids(path)
    assert single_line(err.value) == f"{path}{problem}"


def test_id_list_round_trip_and_refusals(tmp_path):
    ids = ["f1", "a b", "007", "x\ty"]           # inner whitespace is part of an id and survives
    write_ids(tmp_path / "ok.txt", ids)
    assert read_ids(tmp_path / "ok.txt") == ids
    write_ids(tmp_path / "none.txt", [])
    assert read_ids(tmp_path / "none.txt") == []
    with pytest.raises(FileWriteError, match=r"bad.txt: cannot write id ' f2' has leading or trailing whitespace"):
        write_ids(tmp_path / "bad.txt", ["f1", " f2"])
    with pytest.raises(DataFormatError, match=rf"^{tmp_path}: is a directory, expected the id list$"):
        read_ids(tmp_path)
    assert not (tmp_path / "bad.txt").exists()


def test_stage_outputs_read_back_are_one_line(tmp_path):
    from editlab.results.fold_outputs import read_edits, read_summary

    (tmp_path / "summary.json").mkdir()
    with pytest.raises(DataFormatError, match=r"summary.json: is a directory$"):
        read_summary(tmp_path / "summary.json")
    (tmp_path / "s.json").write_bytes(b'{\n  "SR": "\xe9"\n}')
    with pytest.raises(DataFormatError, match=r"s.json:2: not UTF-8$"):
        read_summary(tmp_path / "s.json")
    (tmp_path / "edits.jsonl").write_bytes(b'\n{"index": 0, "id": "\xe9"}\n')
    with pytest.raises(DataFormatError, match=r"edits.jsonl:2: not UTF-8$"):
        read_edits(tmp_path / "edits.jsonl")


def test_model_directories_missing_or_damaged_files(fever_fold, tmp_path):
    base, _ = _copy_fold(fever_fold, tmp_path)
    weights = (base / "model.safetensors").read_bytes()
    (base / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(EditlabError) as err:
        load_base_model("fever", base)
    assert single_line(err.value).startswith(f"{base}: cannot load the fever base model: ")
    (base / "model.safetensors").write_bytes(weights)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (base / name).unlink()
    # transformers would build an empty tokenizer here (every word [UNK]) and the fold would edit on that
    with pytest.raises(EditlabError) as err:
        load_base_model("fever", base)
    assert single_line(err.value) == (f"{base}: no tokenizer files (tokenizer.json / tokenizer_config.json / vocab.txt "
                                      "/ vocab.json); the directory is incomplete (copy the whole model directory "
                                      "the base_model rule wrote)")


def test_tpatcher_refuses_an_empty_memory_set(tmp_path):
    """memory_size 0 let T-Patcher run without its memory loss and report the collapsed TrainR without a word."""
    files = _write_world(tmp_path, "fever")
    Path(files["memory"]).write_text("")
    with pytest.raises(ConfigError) as err:
        run_stream("fever", "tpatcher", _config(), files, tmp_path / "out", "fold0")
    assert single_line(err.value) == (f"config key 'splits.fever.memory_size': T-Patcher needs a non-empty memory set "
                                      f"({files['memory']} has no ids); set memory_size to at least 1")
    assert not (tmp_path / "out").exists()
    run_stream("fever", "ft", _config(), files, tmp_path / "ft", "fold0")   # FT has no memory loss: it runs
    assert (tmp_path / "ft" / "summary.json").is_file()


def test_nmt_model_directory_missing_or_damaged_files(tmp_path):
    from editlab.nmt.model import load_model

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "marian"}))   # weights never copied
    with pytest.raises(DataFormatError) as err:
        load_model(tmp_path)
    assert single_line(err.value).startswith(f"{tmp_path}: cannot load the NMT model: ")
    from editlab.nmt.tokenizer import TOKENIZER_FILE, WordTokenizer

    (tmp_path / TOKENIZER_FILE).write_bytes(b'{"kind": "word",\n "vocab": ["caf\xe9"]}')
    with pytest.raises(DataFormatError, match=rf"{TOKENIZER_FILE}:2: not UTF-8$"):
        WordTokenizer.load(tmp_path)
# -- config files: duplicate keys, hub without hub_id (issue 17) -------------------------------------------------
def test_duplicate_yaml_key_is_refused_naming_key_line_and_file(tmp_path):
    from editlab.config import load_config

    bad = tmp_path / "dup.yaml"
    bad.write_text(f"extends: {REPO / 'config.yaml'}\nsme:\n  ft: {{lr: 1.0e-5}}\n  ft: {{lr: 1.0}}\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert single_line(err.value) == f"{bad}: duplicate key 'ft' (line 4; first on line 3)"
    # a duplicate in a file the profile extends is found as well, naming that file
    child = tmp_path / "child.yaml"
    child.write_text("extends: dup.yaml\nname: child\n")
    with pytest.raises(ConfigError, match=rf"^{bad}: duplicate key 'ft'"):
        load_config(child)


@pytest.mark.parametrize(("section", "key"), [("base.fever.model", "base.fever.model.hub_id"),
                                              ("base.zsre.model", "base.zsre.model.hub_id"), ("nmt", "nmt.hub_id")])
def test_hub_source_without_hub_id_fails_validation(section, key):
    from editlab.config import load_config, validate_config

    config = load_config(REPO / "config/paper.yaml")
    node = config
    for part in section.split("."):
        node = node[part]
    del node["hub_id"]
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert single_line(err.value).startswith(f"invalid config: config key '{key}': missing "
                                             "(source hub loads the checkpoint hub_id names")


@pytest.mark.slow
def test_workflow_refuses_duplicate_keys_in_every_config_file_it_reads(tmp_path):
    """snakemake's own loader keeps the last of two equal keys; the Snakefile's resolution reads every
    file again (the --configfile chain, or config.yaml when none is given) and refuses them."""
    work = copy_workflow(tmp_path / "wf")
    (work / "dup.yaml").write_text("extends: config/ci.yaml\nseed: 1\nseed: 2\n")
    line = one_editlab_line(run_snakemake(work, "--configfile", "dup.yaml", "-n", check=False))
    assert line == f"editlab: error: {work / 'dup.yaml'}: duplicate key 'seed' (line 3; first on line 2)", line
    text = (work / "config.yaml").read_text()
    (work / "config.yaml").write_text(text.replace("name: mini\n", "name: mini\nname: other\n", 1))
    line = one_editlab_line(run_snakemake(work, "-n", check=False))
    assert "config.yaml: duplicate key 'name'" in line, line
def test_editlab_edit_refuses_in_one_line(tmp_path):
    """The real command line: unknown method and a target that is not a label, exit code 2, nothing written."""
    from editlab.tiny_models import bert_tokenizer, build

    model_dir = tmp_path / "bert"
    build("bert", len(bert_tokenizer())).save_pretrained(model_dir)
    bert_tokenizer().save_pretrained(model_dir)
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"input": "ana lives in rome", "target": "maybe"}\n')
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    for method, message in (("memit", "unknown method 'memit'"),
                            ("ft", f"{requests}: request 1: target 'maybe' is not a label of the model")):
        proc = subprocess.run([sys.executable, "-m", "editlab.cli", "edit", str(model_dir), str(requests), "--method",
                               method, "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("editlab: error: "), proc.stderr
        assert message in lines[0]
        assert not (tmp_path / "out").exists()
