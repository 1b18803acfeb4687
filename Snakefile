# editlab workflow: data -> splits -> base models -> editing runs -> aggregation -> figures.
# Default profile is config.yaml (mini, offline, CPU); see README for paper/GPU/SLURM use.
import os
import sys
from pathlib import Path

# Run the library from this checkout even when it is not pip-installed (also for script jobs).
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)

from editlab.config import validate_config


configfile: "config.yaml"


validate_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/base_models.smk"
include: "workflow/rules/edit.smk"


rule all:
    input:
        all_targets(),
    default_target: True
