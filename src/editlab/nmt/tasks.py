"""Task files of one NMT behaviour-deletion task, and the detector of the unwanted behaviour.

A task is three JSONL files (so the paper's own tasks can be dropped in):
  requests.jsonl        id, source, trigger {start, end} (character span in source), target (the
                        positive translation), behaviour, and after probing: negative (observed output)
  generalization.jsonl  id, source, reference, behaviour   (the same behaviour on other inputs)
  specificity.jsonl     id, source, reference              (inputs whose output must not change)
behaviour is {"kind": "contains", "tokens": [...]} (any token in the output) or
{"kind": "equals", "text": ...} (the output is exactly this memorised text).
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editlab.errors import DataFormatError
from editlab.io import read_jsonl, write_jsonl

TASK_FILES = ("requests", "generalization", "specificity")


# Punctuation stripped off both ends of a token before matching ("Ufer." counts as "Ufer").
_PUNCT = string.punctuation + "„“”‚‘’«»…–—"


def words(text: str) -> list[str]:
    """Whitespace tokens with surrounding punctuation stripped (empty ones dropped)."""
    return [w for w in (t.strip(_PUNCT) for t in text.split()) if w]


@dataclass(frozen=True)
class Behaviour:
    kind: str
    tokens: tuple[str, ...] = ()
    text: str = ""

    def present(self, output: str) -> bool:
        if self.kind == "equals":
            return output.split() == self.text.split()
        present = set(words(output))
        return any(t in present for t in self.tokens)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text} if self.kind == "equals" else {"kind": self.kind, "tokens": list(self.tokens)}


@dataclass(frozen=True)
class EditRequest:
    id: str
    source: str
    trigger_start: int
    trigger_end: int
    target: str
    behaviour: Behaviour
    negative: str | None = None

    def to_json(self) -> dict[str, Any]:
        row = {"id": self.id, "source": self.source, "trigger": {"start": self.trigger_start, "end": self.trigger_end},
               "target": self.target, "behaviour": self.behaviour.to_json()}
        if self.negative is not None:
            row["negative"] = self.negative
        return row


@dataclass(frozen=True)
class Probe:
    """A generalisation or specificity input (behaviour is None for specificity)."""

    id: str
    source: str
    reference: str
    behaviour: Behaviour | None = None

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.id, "source": self.source, "reference": self.reference}
        if self.behaviour is not None:
            row["behaviour"] = self.behaviour.to_json()
        return row


@dataclass(frozen=True)
class Task:
    name: str
    requests: list[EditRequest]
    generalization: list[Probe]
    specificity: list[Probe]


def _field(obj: dict[str, Any], key: str, kind: type, path: object, line: int) -> Any:
    if key not in obj:
        raise DataFormatError(path, f"missing key '{key}'", line=line)
    if not isinstance(obj[key], kind):
        raise DataFormatError(path, f"key '{key}' must be {kind.__name__}, got {type(obj[key]).__name__}", line=line)
    return obj[key]


def _behaviour(obj: dict[str, Any], path: object, line: int) -> Behaviour:
    raw = _field(obj, "behaviour", dict, path, line)
    kind = raw.get("kind")
    if kind == "contains":
        tokens = raw.get("tokens")
        if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
            raise DataFormatError(path, "behaviour 'contains' needs a non-empty list of strings 'tokens'", line=line)
        return Behaviour(kind, tokens=tuple(tokens))
    if kind == "equals":
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataFormatError(path, "behaviour 'equals' needs a non-empty string 'text'", line=line)
        return Behaviour(kind, text=text)
    raise DataFormatError(path, f"behaviour kind must be 'contains' or 'equals', got {kind!r}", line=line)


def read_requests(path: str | os.PathLike[str]) -> list[EditRequest]:
    out = []
    for line, obj in read_jsonl(path):
        source = _field(obj, "source", str, path, line)
        trig = _field(obj, "trigger", dict, path, line)
        start, end = trig.get("start"), trig.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(source)):
            raise DataFormatError(path, f"trigger span {trig} is not inside the source ({len(source)} characters)",
                                  line=line)
        negative = obj.get("negative")
        if negative is not None and not isinstance(negative, str):
            raise DataFormatError(path, "key 'negative' must be a string", line=line)
        out.append(EditRequest(id=str(_field(obj, "id", str, path, line)), source=source, trigger_start=start,
                               trigger_end=end, target=_field(obj, "target", str, path, line),
                               behaviour=_behaviour(obj, path, line), negative=negative))
    if not out:
        raise DataFormatError(path, "no edit requests")
    return out


def read_probes(path: str | os.PathLike[str], with_behaviour: bool) -> list[Probe]:
    out = []
    for line, obj in read_jsonl(path):
        out.append(Probe(id=str(_field(obj, "id", str, path, line)), source=_field(obj, "source", str, path, line),
                         reference=_field(obj, "reference", str, path, line),
                         behaviour=_behaviour(obj, path, line) if with_behaviour else None))
    if not out:
        raise DataFormatError(path, "empty probe set")
    return out


def task_paths(directory: str | os.PathLike[str]) -> dict[str, Path]:
    return {name: Path(directory) / f"{name}.jsonl" for name in TASK_FILES}


def read_task(name: str, requests: str | os.PathLike[str], generalization: str | os.PathLike[str],
              specificity: str | os.PathLike[str]) -> Task:
    return Task(name=name, requests=read_requests(requests), generalization=read_probes(generalization, True),
                specificity=read_probes(specificity, False))


def write_task(task: Task, requests: str | os.PathLike[str], generalization: str | os.PathLike[str],
               specificity: str | os.PathLike[str]) -> None:
    write_jsonl(requests, (r.to_json() for r in task.requests))
    write_jsonl(generalization, (p.to_json() for p in task.generalization))
    write_jsonl(specificity, (p.to_json() for p in task.specificity))


def read_parallel(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """A parallel corpus file: JSONL with `source` and `target`."""
    rows = []
    for line, obj in read_jsonl(path):
        rows.append((_field(obj, "source", str, path, line), _field(obj, "target", str, path, line)))
    if not rows:
        raise DataFormatError(path, "empty parallel corpus")
    return rows
