"""`editlab edit MODEL_DIR REQUESTS.jsonl --method M --out OUT_DIR [--memory FILE] [--set key=value ...]`.

Every input is checked before the model is edited; bad input is one line naming the problem, exit code 2,
and nothing written. OUT_DIR is a plain Hugging Face checkpoint of the edited model plus
`edit_records.jsonl` (one record per request) and `editlab_edit.json` (the summary); it must be new or empty
(or `--force`, which replaces it whole), and never the model directory or a folder holding an input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from editlab.errors import EditlabError
from editlab.io import check_out_dir, read_text

USAGE_ERROR = 2


def add_parser(commands: Any) -> None:
    from editlab.api import METHODS

    p = commands.add_parser("edit", help="edit a Hugging Face checkpoint with a list of requests",
                            description=__doc__.splitlines()[0])
    p.add_argument("model_dir", help="a BERT classifier, BART, Marian or T5 checkpoint directory")
    p.add_argument("requests", help='JSONL: {"input": ..., "target": ..., "rephrases": [...]} per line')
    p.add_argument("--method", required=True, help=f"one of {', '.join(METHODS)}")
    p.add_argument("--out", required=True, help="new (or empty) directory for the edited checkpoint")
    p.add_argument("--force", action="store_true", help="replace --out even if it is not empty (its files are deleted)")
    p.add_argument("--memory", help="locality set: JSONL with an 'input' per line, or plain text lines")
    p.add_argument("--stats-corpus", help="rome / r-rome covariance corpus (same formats; default: the memory)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a hyperparameter of the method (value parsed as JSON, else a string); repeatable")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run_edit)


def parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise EditlabError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def read_requests(path: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(read_text(path, "requests file").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EditlabError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise EditlabError(f"{path}:{number}: expected a JSON object with 'input' and 'target'")
        rows.append(row)
    if not rows:
        raise EditlabError(f"{path}: empty requests file (expected one JSON object per line)")
    return rows


def read_inputs(path: str, what: str) -> list[str]:
    """One input per line: a JSON object with an 'input', or the plain text of the line."""
    out = []
    for number, line in enumerate(read_text(path, f"{what} file").splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EditlabError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("input"), str):
                raise EditlabError(f"{path}:{number}: the object has no string field 'input'")
            out.append(row["input"])
        else:
            out.append(line.strip())
    if not out:
        raise EditlabError(f"{path}: empty {what} file")
    return out


def load_model(model_dir: str) -> tuple[Any, Any]:
    """The checkpoint and its tokenizer, as Auto classes load them (no editlab files needed)."""
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoTokenizer

    from editlab.api import CLASSIFIERS, SEQ2SEQ

    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise EditlabError(f"{model_dir}: not a model directory (no config.json)")
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise EditlabError(f"{model_dir}: unreadable config.json ({str(exc).strip().splitlines()[0]})") from None
    arch = (config.architectures or ["?"])[0]
    if arch not in CLASSIFIERS + SEQ2SEQ:
        raise EditlabError(f"{model_dir}: cannot edit a {arch} (editlab edits {', '.join(CLASSIFIERS + SEQ2SEQ)})")
    auto = AutoModelForSequenceClassification if arch in CLASSIFIERS else AutoModelForSeq2SeqLM
    try:
        model = auto.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, TypeError) as exc:
        raise EditlabError(f"{model_dir}: cannot load the model or its tokenizer "
                           f"({str(exc).strip().splitlines()[0]})") from None
    return model.eval(), tokenizer


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_table(result: Any) -> None:
    print(f"{'#':>3}  {'edited':<6}  {'success':<7}  {'rephrase':>8}  {'steps':>5}  {'neurons':>7}  {'seconds':>7}  input -> target")
    for r in result.records:
        print(f"{r.index:>3}  {_cell(r.edited):<6}  {_cell(r.success):<7}  {_cell(r.rephrase_accuracy):>8}  "
              f"{r.steps:>5}  {r.neurons_added:>7}  {r.seconds:>7.2f}  {r.input} -> {r.target}")
    s = result.summary
    rate = "-" if s["success_rate"] is None else f"{s['success_rate']:.3f}"
    reph = "-" if s["rephrase_accuracy"] is None else f"{s['rephrase_accuracy']:.3f}"
    print(f"summary: {s['n_requests']} requests, {s['n_edited']} edited (the rest were already right), "
          f"success {s['n_success']}/{s['n_edited']} ({rate}), rephrase accuracy {reph}, "
          f"{s['neurons_added']} neurons added, {s['seconds']:.1f} s editing")


def run_edit(args: argparse.Namespace) -> None:
    from transformers.utils import logging as hf_logging

    from editlab import api

    # transformers' own loading / writing bars would bury the one-line errors and the table.
    hf_logging.disable_progress_bar()
    if args.method not in api.METHODS:
        raise EditlabError(f"unknown method {args.method!r} (expected one of {', '.join(api.METHODS)})")
    hparams = parse_sets(args.set)
    # --out first: a refusal there must come before the minutes of editing, not after them
    check_out_dir(args.out, args.force, [p for p in (args.model_dir, args.requests, args.memory, args.stats_corpus)
                                         if p])
    raw = read_requests(args.requests)
    memory = read_inputs(args.memory, "memory") if args.memory else None
    corpus = read_inputs(args.stats_corpus, "statistics corpus") if args.stats_corpus else None
    model, tokenizer = load_model(args.model_dir)
    api.check_method(model, args.method)
    api.normalise_requests(model, raw, source=args.requests)
    result = api.edit(model, tokenizer, raw, args.method, memory=memory, stats_corpus=corpus, seed=args.seed,
                      **hparams)
    print_table(result)
    out = result.save_pretrained(args.out, force=args.force)
    print(f"wrote {out} (a plain Hugging Face checkpoint) and {out / 'edit_records.jsonl'}")
