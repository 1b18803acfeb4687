"""`editlab edit` bad input: one line naming the problem, exit code 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_fixtures import tiny_dir  # noqa: F401  (fixture)

from editlab.cli import main


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _refused(capsys, argv: list[str], out: Path, message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("editlab: error: "), err
    assert message in err[0], err[0]
    assert not out.exists() and not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


def test_bad_inputs_are_refused(tiny_dir, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    good = str(tiny_dir / "classifier_requests.jsonl")
    memory = str(tiny_dir / "classifier_memory.txt")
    bert, t5 = str(tiny_dir / "bert"), str(tiny_dir / "t5")
    base = ["edit", "--out", str(out)]
    _refused(capsys, [*base, bert, good, "--method", "memit"], out,
             "unknown method 'memit' (expected one of tpatcher, ft, ftkl, rome, r-rome)")
    _refused(capsys, [*base, t5, str(tiny_dir / "seq2seq_requests.jsonl"), "--method", "tpatcher", "--memory",
                      str(tiny_dir / "seq2seq_memory.txt")], out, "method 'tpatcher' cannot edit a T5ForConditionalGeneration")
    masked = tmp_path / "masked"
    masked.mkdir()
    _write(masked / "config.json", json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    _refused(capsys, [*base, str(masked), good, "--method", "ft"], out, f"{masked}: cannot edit a BertForMaskedLM")
    not_label = _write(tmp_path / "not_label.jsonl", '{"input": "ana lives in rome", "target": "maybe"}\n')
    _refused(capsys, [*base, bert, str(not_label), "--method", "ft"], out,
             f"{not_label}: request 1: target 'maybe' is not a label of the model (labels: false, true)")
    out_of_range = _write(tmp_path / "range.jsonl", '{"input": "ana lives in rome", "target": 7}\n')
    _refused(capsys, [*base, bert, str(out_of_range), "--method", "ft"], out, "target 7 is not a label of the model")
    empty = _write(tmp_path / "empty.jsonl", "\n")
    _refused(capsys, [*base, bert, str(empty), "--method", "ft"], out, f"{empty}: empty requests file")
    malformed = _write(tmp_path / "malformed.jsonl", '{"input": "ana lives in rome", "target": "true"}\n{oops\n')
    _refused(capsys, [*base, bert, str(malformed), "--method", "ft"], out, f"{malformed}:2: not valid JSON")
    no_target = _write(tmp_path / "no_target.jsonl", '{"input": "ana lives in rome"}\n')
    _refused(capsys, [*base, bert, str(no_target), "--method", "ft"], out, f"{no_target}: request 1: 'target' missing")
    _refused(capsys, [*base, bert, good, "--method", "tpatcher"], out, "method 'tpatcher' needs a locality set")
    _refused(capsys, [*base, bert, good, "--method", "ft", "--set", "learning_rate=1"], out,
             "unknown hyperparameter 'learning_rate' for method 'ft'")
    _refused(capsys, [*base, str(tmp_path / "nowhere"), good, "--method", "ft"], out, "not a model directory")
    _refused(capsys, [*base, bert, good, "--method", "ft", "--memory", str(tmp_path / "none.txt")], out,
             "memory file not found")
    assert memory  # the good memory file exists for the positive runs (README test)


@pytest.mark.parametrize("line", ['["a list"]', '{"input": "", "target": "true"}'])
def test_request_shape_errors(tiny_dir, tmp_path, capsys, line):  # noqa: F811
    bad = _write(tmp_path / "bad.jsonl", line + "\n")
    out = tmp_path / "out"
    _refused(capsys, ["edit", str(tiny_dir / "bert"), str(bad), "--method", "ft", "--out", str(out)], out,
             f"{bad}")


def _one_line(capsys, argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("editlab: error: ") and message in err[0], err


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_out_is_checked_before_editing_and_never_replaces_an_input(tiny_dir, tmp_path, capsys):  # noqa: F811
    import shutil

    requests = str(tiny_dir / "classifier_requests.jsonl")
    bert = tmp_path / "bert"
    shutil.copytree(tiny_dir / "bert", bert)
    before = _tree(bert)
    edit = ["edit", str(bert), requests, "--method", "ft"]
    # a directory with a user's file in it: refused without --force, the file kept
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("precious\n")
    _one_line(capsys, [*edit, "--out", str(busy)], f"{busy}: directory exists and is not empty")
    assert (busy / "notes.txt").read_text() == "precious\n"
    # the model directory itself, or a folder holding it, even with --force: the base weights stay
    for out in (bert, tmp_path):
        _one_line(capsys, [*edit, "--out", str(out), "--force"], "--out is (or contains) the input")
    assert _tree(bert) == before
    # a file: refused before the edit runs (no table printed)
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    _one_line(capsys, [*edit, "--out", str(afile)], f"{afile}: exists and is not a directory")
    assert capsys.readouterr().out == ""
    # --force replaces a non-empty directory whole with the edited checkpoint
    assert main([*edit, "--out", str(busy), "--force", "--set", "lr=0.001"]) == 0
    assert not (busy / "notes.txt").exists() and (busy / "config.json").is_file()
    assert (busy / "edit_records.jsonl").is_file()


def test_unreadable_inputs_and_bad_values_are_one_line(tiny_dir, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    bert, bart = str(tiny_dir / "bert"), str(tiny_dir / "bart")
    good = str(tiny_dir / "classifier_requests.jsonl")
    seq2seq, seq_memory = str(tiny_dir / "seq2seq_requests.jsonl"), str(tiny_dir / "seq2seq_memory.txt")
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"input": "ana vit o\xf9", "target": 0}\n'.encode("latin-1"))
    _refused(capsys, ["edit", bert, str(latin1), "--method", "ft", "--out", str(out)], out, f"{latin1}:1: not UTF-8")
    _refused(capsys, ["edit", bert, good, "--method", "tpatcher", "--memory", str(latin1), "--out", str(out)], out,
             f"{latin1}:1: not UTF-8")
    _refused(capsys, ["edit", bert, str(tmp_path), "--method", "ft", "--out", str(out)], out,
             f"{tmp_path}: is a directory, expected the requests file")
    base = ["edit", bert, good, "--out", str(out), "--method"]
    for method, setting, message in [
            ("ft", 'max_steps="abc"', "hyperparameter 'max_steps' of method 'ft': 'abc' is not of type 'integer'"),
            ("ft", "lr=-1", "hyperparameter 'lr' of method 'ft': -1 is less than or equal to the minimum of 0"),
            ("ft", "lr=null", "hyperparameter 'lr' of method 'ft': None is not of type 'number'"),
            ("ft", "eval_batch_size=0", "hyperparameter 'eval_batch_size' of method 'ft': 0 is less than the minimum"),
            ("ftkl", "kl_memory_size=0", "'kl_memory_size' of method 'ftkl': 0 is less than the minimum of 1"),
            ("ft", "max_length=0", "hyperparameter 'max_length' of method 'ft': 0 is less than the minimum of 4")]:
        _refused(capsys, [*base, method, "--set", setting, "--memory", str(tiny_dir / "classifier_memory.txt")], out,
                 message)
    _refused(capsys, ["edit", bart, seq2seq, "--method", "rome", "--memory", seq_memory, "--out", str(out),
                      "--set", 'side="middle"'], out, "hyperparameter 'side' of method 'rome': 'middle' is not one of")
    _refused(capsys, ["edit", bart, seq2seq, "--method", "r-rome", "--memory", seq_memory, "--out", str(out),
                      "--set", 'key_mode="rome"'], out, "'key_mode' for method 'r-rome' (key_mode is set by the method")
    unknown = _write(tmp_path / "unk.jsonl", json.dumps({"input": "where does ana live ?",
                                                         "target": "Qwxzyy Plorkton"}) + "\n")
    _refused(capsys, ["edit", bart, str(unknown), "--method", "tpatcher", "--memory", seq_memory, "--out", str(out)],
             out, "target 'Qwxzyy Plorkton' has words the tokenizer does not know")
    long = _write(tmp_path / "long.jsonl", json.dumps({"input": "ana lives in " + "rome " * 40, "target": 1}) + "\n")
    _refused(capsys, ["edit", bert, str(long), "--method", "ft", "--out", str(out), "--set", "max_length=16"], out,
             "tokens, more than max_length=16")
