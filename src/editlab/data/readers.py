"""Readers of the real file formats (docs/design.md §3), validating every record.

A malformed line, a missing field or an unknown label raises DataFormatError naming file, line and
problem. The mini generator writes exactly these formats, so the same readers serve both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from editlab.data.records import FEVER_LABELS, Example
from editlab.errors import DataFormatError
from editlab.io import id_problem, read_json, read_jsonl

PathLike = str | os.PathLike[str]


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: PathLike, line: int) -> Any:
    if key not in obj:
        raise DataFormatError(path, f"missing field '{key}'", line=line)
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DataFormatError(path, f"field '{key}' should be {names}, got {type(value).__name__}", line=line)
    return value


def _string_list(obj: Mapping[str, Any], key: str, path: PathLike, line: int, required: bool) -> tuple[str, ...]:
    if key not in obj:
        if required:
            raise DataFormatError(path, f"missing field '{key}'", line=line)
        return ()
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFormatError(path, f"field '{key}' should be a list of strings", line=line)
    return tuple(value)


def _kilt_answers(obj: Mapping[str, Any], path: PathLike, line: int) -> list[dict[str, Any]]:
    output = _require(obj, "output", list, path, line)
    if not all(isinstance(o, dict) for o in output):
        raise DataFormatError(path, "field 'output' should be a list of objects", line=line)
    return output


def _id(obj: Mapping[str, Any], path: PathLike, line: int) -> str:
    """The record's id as the id lists will hold it: refused here if a list could not carry it exactly."""
    value = _require(obj, "id", (str, int), path, line)
    if isinstance(value, bool):
        raise DataFormatError(path, f"field 'id' should be str/int, got {value!r}", line=line)
    problem = id_problem(str(value))
    if problem:
        raise DataFormatError(path, f"{problem} (ids must survive the one-id-a-line split files)", line=line)
    return str(value)


def _non_empty(examples: list[Example], path: PathLike) -> list[Example]:
    if not examples:
        raise DataFormatError(path, "no records (the data file is empty)")
    return examples


def kilt_zsre_question(obj: Mapping[str, Any], path: PathLike, line: int) -> str:
    """The question of a KILT `structured_zeroshot` record: its `input` is "subject [SEP] relation", the
    questions are `meta.template_questions` (the first is taken)."""
    meta = obj.get("meta")
    questions = meta.get("template_questions") if isinstance(meta, Mapping) else None
    if not isinstance(questions, list) or not questions or not all(isinstance(q, str) for q in questions):
        raise DataFormatError(path, "KILT zsRE record without a non-empty 'meta.template_questions' list of "
                                    "strings (its 'input' is 'subject [SEP] relation', not a question)", line=line)
    return questions[0]


def read_cao_zsre(path: PathLike, *, require_rephrases: bool = True, kilt: bool = False) -> list[Example]:
    """Cao et al. annotated zsRE JSONL: answers = `output[*].answer` of entries that have both
    `answer` and `provenance` (as the reference does). `kilt`: a KILT original, whose question is
    `meta.template_questions[0]`."""
    examples = []
    for line, obj in read_jsonl(path):
        qid = _id(obj, path, line)
        question = kilt_zsre_question(obj, path, line) if kilt else _require(obj, "input", str, path, line)
        answers = tuple(o["answer"] for o in _kilt_answers(obj, path, line) if "answer" in o and "provenance" in o)
        if not answers:
            raise DataFormatError(path, "no output entry has both 'answer' and 'provenance'", line=line)
        if not all(isinstance(a, str) for a in answers):
            raise DataFormatError(path, "an output 'answer' is not a string", line=line)
        rephrases = _string_list(obj, "rephrases", path, line, required=require_rephrases)
        examples.append(Example(qid, question, answers, rephrases))
    _check_unique(examples, path)
    return _non_empty(examples, path)


def read_cao_fever(path: PathLike, *, require_rephrases: bool = True) -> list[Example]:
    """Cao et al. FEVER JSONL (KILT record + rephrases): label from `output[0].answer`."""
    examples = []
    for line, obj in read_jsonl(path):
        qid = _id(obj, path, line)
        claim = _require(obj, "input", str, path, line)
        output = _kilt_answers(obj, path, line)
        if not output or "answer" not in output[0]:
            raise DataFormatError(path, "field 'output' has no answer", line=line)
        label = output[0]["answer"]
        if label not in FEVER_LABELS:
            raise DataFormatError(path, f"unknown FEVER label {label!r} (expected SUPPORTS or REFUTES)", line=line)
        rephrases = _string_list(obj, "rephrases", path, line, required=require_rephrases)
        examples.append(Example(qid, claim, (label,), rephrases))
    _check_unique(examples, path)
    return _non_empty(examples, path)


def read_kilt(path: PathLike, task: str) -> list[Example]:
    """KILT originals (no rephrases); `task` is fever or zsre."""
    if task == "fever":
        return read_cao_fever(path, require_rephrases=False)
    if task == "zsre":
        return read_cao_zsre(path, require_rephrases=False, kilt=True)
    raise ValueError(f"unknown task {task!r}")


def read_mend_zsre(path: PathLike) -> list[Example]:
    """MEND/ROME zsRE evaluation file: one JSON list of {subject, src, pred, rephrase, alt, answers, loc,
    loc_ans, cond}. Ids are positions in the list (the format has none)."""
    data = read_json(path)
    if not isinstance(data, list):
        raise DataFormatError(path, f"expected one JSON list of records, got {type(data).__name__}")
    examples = []
    for i, obj in enumerate(data):
        where = f"record {i}"
        if not isinstance(obj, dict):
            raise DataFormatError(path, f"{where}: expected an object")
        for key in ("subject", "src", "rephrase", "answers", "loc", "loc_ans"):
            if key not in obj:
                raise DataFormatError(path, f"{where}: missing field '{key}'")
        answers = obj["answers"]
        if not isinstance(answers, list) or not answers or not all(isinstance(a, str) for a in answers):
            raise DataFormatError(path, f"{where}: field 'answers' should be a non-empty list of strings")
        for key in ("subject", "src", "rephrase", "loc", "loc_ans"):
            if not isinstance(obj[key], str):
                raise DataFormatError(path, f"{where}: field '{key}' should be a string")
        extra = (("subject", obj["subject"]), ("loc", obj["loc"]), ("loc_ans", obj["loc_ans"]))
        examples.append(Example(str(i), obj["src"], tuple(answers), (obj["rephrase"],), extra))
    return _non_empty(examples, path)


def _check_unique(examples: list[Example], path: PathLike) -> None:
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise DataFormatError(path, f"duplicate id {ex.id!r}")
        seen.add(ex.id)


def read_task_file(task: str, path: PathLike) -> list[Example]:
    """The Cao-format file of a task (what every downstream stage reads, mini or real). Its `input` is the
    question, as the reference reads it (the KILT route's back-translation already put the question there)."""
    if task == "fever":
        return read_cao_fever(path, require_rephrases=False)
    if task == "zsre":
        return read_cao_zsre(path, require_rephrases=False)
    raise ValueError(f"unknown task {task!r}")


def select(examples: list[Example], ids: list[str], *, source: PathLike = "<ids>") -> list[Example]:
    """Examples in the order of `ids`; an unknown id is an error naming the id list."""
    by_id = {ex.id: ex for ex in examples}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise DataFormatError(source, f"{len(missing)} ids not in the data (first: {missing[0]!r})")
    return [by_id[i] for i in ids]
