"""Run SME folds on the reference path and compare with the cached-path fold summaries.

    python benchmarks/path_agreement.py [--config OVERRIDE...] [--tasks fever zsre] [--folds 0 1 2 3]
                                        [--methods tpatcher ft ftkl]

Needs a finished workflow run (base models, splits, cached-path summaries under results/{name}/sme/).
Writes reference-path streams to results/{name}/sme_reference/{task}/{method}/fold{k}/ and prints,
per task, method and metric, mean and spread across folds for both paths; the last line is one JSON
object. FT and FT+KL run on the cached path only with `tune: ffn` (the mini setting), which the reference
path then tunes too, so the two paths train the same weights.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from editlab.config import load_config
from editlab.editors.site import ffn_site
from editlab.editors.task_ops import task_ops
from editlab.io import read_json
from editlab.layout import Layout
from editlab.models.build import load_base_model
from editlab.runtime import script_logging
from editlab.sme.paths import execution_path
from editlab.sme.runner import load_stream_data, run_stream

METRICS = ("SR", "GR", "ER", "TrainR", "TestR", "n_edits", "seconds_per_edit")


def stream_files(layout: Layout, task: str, fold: int) -> dict:
    return layout.stream_inputs(task, [f"fold{fold}"])


def spread(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "sd": None}
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0}


def base_accuracy_agreement(task: str, config: dict, layout: Layout) -> dict:
    """Per-example agreement of the two paths' correctness judgements on the base model's test set
    (zsRE: teacher-forced argmax vs greedy generation)."""
    model, tokenizer = load_base_model(task, Path(layout.base_model(task)))
    data = load_stream_data(task, stream_files(layout, task, 0))
    site = ffn_site(task, model)
    ops = task_ops(task, tokenizer, model, config["base"][task]["train"])
    judged = {name: execution_path(name, site, ops, "cpu").correct(data.test) for name in ("cached", "reference")}
    same = sum(a == b for a, b in zip(judged["cached"], judged["reference"], strict=True))
    return {"n": len(data.test), "agree": same / max(1, len(data.test)),
            "cached_acc": sum(judged["cached"]) / max(1, len(data.test)),
            "reference_acc": sum(judged["reference"]) / max(1, len(data.test))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", nargs="*", default=[])
    ap.add_argument("--tasks", nargs="*", default=["fever", "zsre"])
    ap.add_argument("--folds", nargs="*", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", nargs="*", default=["tpatcher"], choices=["tpatcher", "ft", "ftkl"])
    args = ap.parse_args(argv)
    config = load_config(*args.config)
    layout = Layout.from_config(config)
    report: dict = {}
    with script_logging(None):
        for task in args.tasks:
            folds = args.folds if args.folds is not None else range(config["splits"][task]["n_folds"])
            report[task] = {"base_test_agreement": base_accuracy_agreement(task, config, layout)}
            print(task, "base test-set correctness, cached vs reference judgement:",
                  json.dumps(report[task]["base_test_agreement"]))
            for method in args.methods:
                rows = {"cached": [], "reference": []}
                for k in folds:
                    out = Path(layout.sme_reference_dir(task, method, f"fold{k}"))
                    if not (out / "summary.json").exists():
                        run_stream(task, method, config, stream_files(layout, task, k), out, f"fold{k}",
                                   path_name="reference", threads=args.threads)
                    rows["reference"].append(read_json(out / "summary.json"))
                    rows["cached"].append(read_json(layout.sme_file(task, method, f"fold{k}", "summary.json")))
                report[task][method] = {path: {m: spread([r[m] for r in summaries]) for m in METRICS}
                                        for path, summaries in rows.items()}
                for m in METRICS:
                    c, r = report[task][method]["cached"][m], report[task][method]["reference"][m]
                    fmt = lambda s: "n/a" if s["mean"] is None else f"{s['mean']:.4f} ± {s['sd']:.4f}"  # noqa: E731
                    print(f"{task:5s} {method:8s} {m:16s} cached {fmt(c):>20s}   reference {fmt(r):>20s}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
