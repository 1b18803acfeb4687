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
