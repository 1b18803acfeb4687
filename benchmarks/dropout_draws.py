"""Edit success against the number of dropout draws on the cached path, next to the reference path.

    snakemake --configfile config/mini_dropout.yaml --cores all --resources gpu=0 \\
        results/mini_dropout/base/fever/metrics.json results/mini_dropout/splits/fever/fold0.txt
    python benchmarks/dropout_draws.py --config config/mini_dropout.yaml [--edits 30] [--draws 1 4 8 16]

On a base model *with* dropout the cached path fits the patch to `sme.cached_dropout_draws` captured
dropout draws of the 8 copies instead of a new draw every step (docs/methods/transformer_patcher.md).
Per setting, a fresh model goes through fold 0 in its order and edits the first `--edits` examples it
gets wrong at the time, as an SME stream does; printed: the share fixed (SR), the steps of every edit and
the seconds per edit. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from editlab.config import load_config
from editlab.io import write_json
from editlab.layout import Layout
from editlab.runtime import script_logging
from editlab.sme.speed import fold_inputs, time_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", nargs="*", default=[], help="override files on top of config.yaml")
    ap.add_argument("--task", default="fever", choices=("fever", "zsre"))
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--draws", type=int, nargs="*", default=[1, 4, 8, 16])
    ap.add_argument("--no-reference", action="store_true", help="skip the (slow) reference path")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    with script_logging(None):
        logging.getLogger().setLevel(logging.INFO)
        config = load_config(*args.config)
        torch.set_num_threads(args.threads)
        f = fold_inputs(args.task, Layout.from_config(config), config)
        settings = [("cached", d) for d in args.draws] + ([] if args.no_reference else [("reference", 1)])
        report = {}
        for path_name, n_draws in settings:
            name = f"cached_{n_draws}_draws" if path_name == "cached" else "reference"
            report[name] = time_path(args.task, f.make_model, f.stream, f.memory, f.val, f.params, f.base_train,
                                     path_name, args.edits, dropout_draws=n_draws)
            print(name, json.dumps(report[name]), file=sys.stderr, flush=True)
        if args.out:
            write_json(args.out, report)
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
