"""The workflow's stages, declared by the library (docs/scaling.md, "Stages and jobs").

A stage `<name>` is the module `editlab.stages.<name>` with a `run(job)`. Its code dependencies are the
import closure of that module plus the job wrapper (`editlab.stages.codedeps`); a rule passes them as
`params.code = stage_code(name)` and its script is one line, `run_stage(name, snakemake)`, which enters
the one job wrapper (`editlab.stages.job`): log file, threads, seeding and the GPU slot.

The table below is strings only, so importing this package loads no stage module: a job imports only
the stage it runs, and the closure of a stage never contains another stage's code.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editlab.errors import EditlabError
from editlab.stages.codedeps import SourceTree
from editlab.stages.job import run_job


@dataclass(frozen=True)
class Stage:
    """A stage; `torch`: the job wrapper sets torch threads, seeds torch and picks the device for it."""

    name: str
    torch: bool = False

    @property
    def module(self) -> str:
        """Each stage is the module `editlab.stages.<name>` with a `run(job)`: its imports are its code."""
        return f"{__name__}.{self.name}"


def _stages(*stages: Stage) -> dict[str, Stage]:
    return {s.name: s for s in stages}


STAGES = _stages(
    Stage("mini_data"),
    Stage("ingest_cao"),
    Stage("download_file"),
    Stage("download_cao"),
    Stage("prefetch_hub"),
    Stage("backtranslate", torch=True),
    Stage("splits"),
    Stage("fold"),
    Stage("base_model", torch=True),
    Stage("sme_stream", torch=True),
    Stage("edit_speed", torch=True),
    Stage("aggregate_sme"),
    Stage("cost_sme"),
    Stage("collect_tables"),
    Stage("render_table"),
    Stage("fig_sme_curves"),
    Stage("fig_patch_activations"),
    Stage("fig_long_stream"),
    Stage("fig_scale_stream"),
    Stage("fig_cost"),
    Stage("nmt_toy_data"),
    Stage("nmt_hub_data", torch=True),
    Stage("nmt_model", torch=True),
    Stage("nmt_model_metrics", torch=True),
    Stage("nmt_probe", torch=True),
    Stage("nmt_stats", torch=True),
    Stage("nmt_edit", torch=True),
    Stage("nmt_table"),
    Stage("nmt_figure"),
)
# Every job runs the wrapper; its modules are part of every stage's code.
WRAPPER = "editlab.stages"


def get_stage(name: str) -> Stage:
    if name not in STAGES:
        raise EditlabError(f"unknown stage {name!r} (known: {', '.join(sorted(STAGES))})")
    return STAGES[name]


def stage_modules(name: str, tree: SourceTree | None = None) -> list[str]:
    """The import closure of stage `name`: its module, the job wrapper, and all they import in editlab."""
    tree = tree or SourceTree()
    return tree.closure([get_stage(name).module, WRAPPER])


def stage_code(name: str, tree: SourceTree | None = None) -> str:
    """`<stage>@<digest of its closure>`: the value of a rule's `params.code`."""
    tree = tree or SourceTree()
    return f"{name}@{tree.digest(stage_modules(name, tree))}"


class StageCode:
    """`stage_code` for the Snakefile: one parse of the source tree `src` for all rules."""

    def __init__(self, src: str | Path) -> None:
        self.tree = SourceTree(src)

    def __call__(self, name: str) -> str:
        return stage_code(name, self.tree)


def run_stage(name: str, smk: Any) -> None:
    """The one line of every workflow script: run stage `name` for the Snakemake job `smk` in the job wrapper."""
    run_job(get_stage(name), smk, stage_code)
    # The job is done (outputs written, log closed) and its process ends next. Python's shutdown garbage
    # collection would walk every object torch and transformers made, about 1 s per torch job (0.15 s frozen).
    gc.freeze()
