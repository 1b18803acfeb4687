"""Seconds per T-Patcher edit, reference path vs cached path (DESIGN §9, §11).

    python benchmarks/edit_speed.py [--results results/mini] [--config config.yaml] [--threads 2] [--device cuda]

`fever`/`zsre`: the trained mini base models of `--results` (run the workflow first), the first
`--edits` mistakes of fold 0, full T-Patcher settings of the config. `fever_base`/`zsre_base`:
randomly initialised BERT-base / BART-base shaped models on synthetic inputs, `--base-steps` steps per
edit (random weights do not converge). The default, 150, is the fewest steps a successful edit takes
under the reference's stopping rule (validation every 25 steps, stop checks from step 100, patience 1:
the first check at 125, the earliest stop at 150); the mini edits take 150-675. The last line printed
is one JSON object. `--device cuda` times both paths on the GPU (each edit timed between
synchronisations); the JSON names the device.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from editlab.config import load_config
from editlab.errors import EditlabError
from editlab.io import write_json
from editlab.layout import Layout
from editlab.runtime import script_logging
from editlab.sme.speed import SPEED_TASKS, speed_report


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
    ap.add_argument("--tasks", nargs="*", default=list(SPEED_TASKS), choices=SPEED_TASKS)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--device", default="cpu", help="cpu (default, as the README's figures) or cuda[:N]")
    args = ap.parse_args(argv)
    with script_logging(None):
        logging.getLogger().setLevel(logging.INFO)
        config = load_config(*args.config)
        # --results results/<name>: the layout of that run (its workflow directory is two levels up)
        layout = Layout(args.results.name, str(args.results.parent.parent)) if args.results else Layout.from_config(config)
        torch.set_num_threads(args.threads)
        try:
            report = speed_report(config, layout, args.tasks, edits=args.edits, base_edits=args.base_edits,
                                  base_steps=args.base_steps, base_memory=args.base_memory, device=args.device)
        except EditlabError as err:
            print(f"edit_speed.py: {err}", file=sys.stderr)
            return 2
        if args.out:
            write_json(args.out, report)
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
