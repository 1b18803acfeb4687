"""Seconds per T-Patcher edit, reference path vs cached path (DESIGN §9, §11).

    python benchmarks/edit_speed.py [--results results/mini] [--config config.yaml] [--threads 2]

`fever`/`zsre`: the trained mini base models of `--results` (run the workflow first), the first
`--edits` mistakes of fold 0, full T-Patcher settings of the config. `fever_base`/`zsre_base`:
randomly initialised BERT-base / BART-base shaped models on synthetic inputs, `--base-steps` steps per
edit (random weights do not converge). The default, 150, is the fewest steps a successful edit takes
under the reference's stopping rule (validation every 25 steps, stop checks from step 100, patience 1:
the first check at 125, the earliest stop at 150); the mini edits take 150-675. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from editlab.config import load_config
from editlab.data.readers import read_task_file, select
from editlab.editors.tpatcher import TPatcherParams
from editlab.io import read_ids, write_json
from editlab.models.build import load_base_model
from editlab.sme.speed import base_sized_factory, compare_paths, fixed_steps, synthetic_examples
from editlab.runtime import script_logging

FILES = {"fever": "fever/fever-train-kilt.jsonl", "zsre": "zsre/structured_zeroshot-train-new_annotated_final.jsonl"}


def draws(config: dict) -> int:
    return int(config["sme"]["cached_dropout_draws"])


def mini_task(task: str, results: Path, config: dict, n_edits: int) -> dict:
    train = read_task_file(task, results / "data" / FILES[task])
    splits = results / "splits" / task
    part = lambda name: select(train, read_ids(splits / f"{name}.txt"))  # noqa: E731
    params = TPatcherParams.from_config(config["sme"]["tpatcher"], task)
    make = lambda: load_base_model(task, results / "base" / task / "model")  # noqa: E731
    return compare_paths(task, make, part("fold0"), part("memory"), part("val"), params,
                         config["base"][task]["train"], n_edits, draws(config))


def base_task(task: str, config: dict, n_edits: int, steps: int, memory_size: int) -> dict:
    examples = synthetic_examples(task, 40 + memory_size)
    corpus = [t for e in examples for t in (e.input, *e.answers, *e.rephrases)]
    params = fixed_steps(TPatcherParams.from_config(config["sme"]["tpatcher"], task), steps)
    out = compare_paths(task, base_sized_factory(task, corpus), examples[:40], examples[40:], examples[40:],
                        params, {"max_length": 32}, n_edits, draws(config))
    return out | {"steps_per_edit": steps, "memory_examples": memory_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", nargs="*", default=[], help="override files on top of config.yaml")
    ap.add_argument("--results", type=Path, default=None, help="results/<name> of a finished run (mini models)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--edits", type=int, default=5, help="edits timed per mini model and path")
    ap.add_argument("--base-edits", type=int, default=2)
    ap.add_argument("--base-steps", type=int, default=150,
                    help="steps per base-sized edit (150: the shortest successful edit under the reference rule)")
    ap.add_argument("--base-memory", type=int, default=1000, help="memory examples for the base-sized models")
    ap.add_argument("--tasks", nargs="*", default=["fever", "zsre", "fever_base", "zsre_base"])
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    with script_logging(None):
        logging.getLogger().setLevel(logging.INFO)
        config = load_config(*args.config)
        results = args.results or Path("results") / config["name"]
        torch.set_num_threads(args.threads)
        report = {}
        for task in args.tasks:
            if task in ("fever", "zsre"):
                report[task] = mini_task(task, results, config, args.edits)
            else:
                report[task] = base_task(task.removesuffix("_base"), config, args.base_edits, args.base_steps,
                                         args.base_memory)
            print(task, json.dumps(report[task]), file=sys.stderr, flush=True)
        if args.out:
            write_json(args.out, report)
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
