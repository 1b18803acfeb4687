"""Both execution paths timed side by side (benchmarks/edit_speed.py inside the DAG, report.edit_speed)."""

from pathlib import Path

import torch

from editlab.io import write_json
from editlab.runtime import script_logging
from editlab.sme.speed import speed_report

with script_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    results = Path(snakemake.output[0]).parent.parent      # results/{name}/benchmarks/edit_speed.json
    report = speed_report(snakemake.config, results, **snakemake.params.settings)
    write_json(snakemake.output[0], report)
