# editlab workflow: data -> splits -> base models -> editing runs -> aggregation -> figures.
# Default profile is config.yaml (mini, offline, CPU); see README for paper/GPU/SLURM use.
import sys
from pathlib import Path

# Run the library from this checkout even when it is not pip-installed (also for script jobs).
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)

from editlab.config import resolve_config, validate_config
from editlab.errors import EditlabError
from editlab.runtime import export_src_path

export_src_path(SRC)


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


# Profile isolation (docs/design.md §12): snakemake merged config.yaml and every --configfile key by key;
# the run gets instead exactly the named profile (with the chain its `extends:` names), the further
# --configfile files and the --config values over it. A bad config stops here with one line naming the
# key (or the file), not a traceback through the Snakefile.
try:
    _resolved = resolve_config(
        workflow.overwrite_configfiles,
        overrides=workflow.config_settings.config,
        default="config.yaml",
    )
    validate_config(_resolved)
except EditlabError as exc:
    sys.exit(f"editlab: error: {exc}")
config.clear()
config.update(_resolved)


include: "workflow/rules/common.smk"
include: "workflow/rules/hub.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/base_models.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/nmt.smk"
include: "workflow/rules/edit.smk"


rule all:
    default_target: True
    input:
        TARGETS.all_targets(),


# The SME half alone (no NMT jobs): `snakemake ... sme_all` (the paper smoke run, tests/test_paper_smoke.py).
rule sme_all:
    input:
        TARGETS.sme_all_targets(),
