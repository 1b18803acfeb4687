"""Readers of the real formats: the real records in ../shared and hand-written fixtures, incl. error cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editlab.data.readers import read_cao_fever, read_cao_zsre, read_kilt, read_mend_zsre, select
from editlab.errors import DataFormatError

FEVER_OK = {"id": "75397", "input": "Nikolaj Coster-Waldau worked with the Fox Broadcasting Company.",
            "output": [{"answer": "SUPPORTS", "provenance": [{"wikipedia_id": "1", "title": "N"}]}],
            "rephrases": ["Nikolaj Coster-Waldau has worked with Fox."], "prediction": "SUPPORTS",
            "alternatives": ["REFUTES"], "filtered_rephrases": [], "logit": 2.1}


def write_lines(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_real_cao_zsre_record(shared_data):
    [ex] = read_cao_zsre(shared_data / "zsre" / "example_cao_zsre_dev_annotated_record.jsonl")
    assert ex.input == "What university did Watts Humphrey attend?"
    assert ex.answers == ("Illinois Institute of Technology",)
    assert len(ex.rephrases) == 17 and ex.input in ex.rephrases
    assert ex.input not in ex.equivalents and len(ex.equivalents) == 16


def test_real_mend_zsre_file(shared_data):
    examples = read_mend_zsre(shared_data / "zsre" / "zsre_mend_eval_portability_gpt4.json")
    assert len(examples) == 1037
    assert sum(len(ex.answers) == 1 for ex in examples) == 1006
    assert len({dict(ex.extra)["subject"] for ex in examples}) == 743
    assert all(dict(ex.extra)["loc"].startswith("nq question:") for ex in examples)


def test_fever_label_and_rephrases(tmp_path):
    refutes = dict(FEVER_OK, id=2, output=[{"answer": "REFUTES", "provenance": []}])
    exs = read_cao_fever(write_lines(tmp_path / "f.jsonl", [FEVER_OK, refutes]))
    assert [e.label for e in exs] == [1, 0]
    assert exs[1].id == "2" and exs[0].equivalents == ("Nikolaj Coster-Waldau has worked with Fox.",)


def test_zsre_keeps_only_answers_with_provenance(tmp_path):
    row = {"id": "q", "input": "Who?", "output": [{"answer": "A", "provenance": []}, {"answer": "B"},
                                                  {"provenance": []}], "rephrases": []}
    [ex] = read_cao_zsre(write_lines(tmp_path / "z.jsonl", [row]))
    assert ex.answers == ("A",)


def test_kilt_originals_need_no_rephrases(tmp_path):
    row = {k: v for k, v in FEVER_OK.items() if k in ("id", "input", "output")}
    [ex] = read_kilt(write_lines(tmp_path / "k.jsonl", [row]), "fever")
    assert ex.rephrases == ()


@pytest.mark.parametrize("rows, line, problem", [
    ([FEVER_OK, "{not json"], 2, "malformed JSON"),
    ([FEVER_OK, dict(FEVER_OK, id="9", output=[{"answer": "NOT ENOUGH INFO"}])], 2, "unknown FEVER label"),
    ([{k: v for k, v in FEVER_OK.items() if k != "input"}], 1, "missing field 'input'"),
    ([dict(FEVER_OK, rephrases="not a list")], 1, "field 'rephrases' should be a list of strings"),
    ([[1, 2]], 1, "expected a JSON object"),
    ([dict(FEVER_OK, output=[])], 1, "has no answer"),
])
def test_fever_errors_name_file_line_problem(tmp_path, rows, line, problem):
    path = write_lines(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataFormatError) as err:
        read_cao_fever(path)
    assert f"{path}:{line}:" in str(err.value) and problem in str(err.value)


def test_cao_requires_rephrases(tmp_path):
    row = {k: v for k, v in FEVER_OK.items() if k != "rephrases"}
    with pytest.raises(DataFormatError, match="missing field 'rephrases'"):
        read_cao_fever(write_lines(tmp_path / "f.jsonl", [row]))


def test_zsre_without_usable_answer(tmp_path):
    row = {"id": "q", "input": "Who?", "output": [{"answer": "A"}], "rephrases": []}
    with pytest.raises(DataFormatError, match=r"z.jsonl:1: no output entry has both"):
        read_cao_zsre(write_lines(tmp_path / "z.jsonl", [row]))


def test_duplicate_ids_refused(tmp_path):
    with pytest.raises(DataFormatError, match="duplicate id '75397'"):
        read_cao_fever(write_lines(tmp_path / "f.jsonl", [FEVER_OK, FEVER_OK]))


def test_truncated_file(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(FEVER_OK) + "\n" + json.dumps(FEVER_OK)[:40])
    with pytest.raises(DataFormatError, match=r"t.jsonl:2: malformed JSON"):
        read_cao_fever(path)


def test_mend_errors(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(DataFormatError, match="expected one JSON list"):
        read_mend_zsre(path)
    path.write_text(json.dumps([{"subject": "s", "src": "q", "rephrase": "r", "answers": [], "loc": "l",
                                 "loc_ans": "a"}]))
    with pytest.raises(DataFormatError, match="record 0: field 'answers'"):
        read_mend_zsre(path)


def test_select_unknown_id_names_list(tmp_path):
    exs = read_cao_fever(write_lines(tmp_path / "f.jsonl", [FEVER_OK]))
    with pytest.raises(DataFormatError, match=r"fold0.txt: 1 ids not in the data \(first: 'nope'\)"):
        select(exs, ["75397", "nope"], source="fold0.txt")


def test_kilt_zsre_question_comes_from_the_template_questions(tmp_path):
    """KILT structured_zeroshot: `input` is "subject [SEP] relation"; the question is meta.template_questions."""
    row = {"id": "k1", "input": "Ann Smith [SEP] place of birth",
           "output": [{"answer": "Oslo", "provenance": [{"wikipedia_id": "1"}]}],
           "meta": {"template_questions": ["Where was Ann Smith born?", "What is Ann Smith's birthplace?"]}}
    [ex] = read_kilt(write_lines(tmp_path / "z.jsonl", [row]), "zsre")
    assert (ex.input, ex.answers, ex.rephrases) == ("Where was Ann Smith born?", ("Oslo",), ())
    del row["meta"]
    with pytest.raises(DataFormatError, match=r"z2.jsonl:1: KILT zsRE record without .*meta.template_questions"):
        read_kilt(write_lines(tmp_path / "z2.jsonl", [row]), "zsre")
