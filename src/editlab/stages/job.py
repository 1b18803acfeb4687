"""The one job wrapper every workflow job runs in (docs/scaling.md, "Stages and jobs").

In order: logging (and stray prints) to the rule's log; a check that the rule declares the code of the
stage it runs; for a job with `gpu` tokens the hub offline (prefetch_hub fetched its files) and the
GPU slot (a job without tokens logs that it runs on CPU and sees no GPU); threads and seeding (torch
stages: `configure_torch`, which also picks the device); the stage's `run(job)`; finally the editlab
modules the job really loaded, for the code-dependency test.
"""

from __future__ import annotations

import importlib
import logging
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from editlab.errors import EditlabError
from editlab.gpu import GpuClaim
from editlab.runtime import HUB_OFFLINE_VARIABLES, configure_torch, gpu_slot, hub_offline, script_logging

if TYPE_CHECKING:
    from editlab.stages import Stage

log = logging.getLogger("editlab.job")


@dataclass(frozen=True)
class Job:
    """What a stage's `run(job)` gets: Snakemake's job objects, plus the device and GPU claim it was given."""

    stage: str
    rule: str
    input: Any
    output: Any
    params: Any
    wildcards: Any
    log: str | None
    threads: int
    resources: Any
    config: Mapping[str, Any]
    device: str
    gpu: GpuClaim


def gpu_tokens(resources: Any) -> int:
    if isinstance(resources, Mapping):
        return int(resources.get("gpu", 0) or 0)
    return int(getattr(resources, "gpu", 0) or 0)


def _declared_code(smk: Any) -> str | None:
    params = smk.params
    return params["code"] if "code" in params.keys() else None


def run_job(stage: Stage, smk: Any, code_of: Callable[[str], str]) -> None:
    log_path = smk.log[0] if len(smk.log) else None
    with script_logging(log_path):
        declared = _declared_code(smk)
        if declared is None or declared.partition("@")[0] != stage.name:
            raise EditlabError(f"rule {smk.rule} runs stage {stage.name} but its params.code is {declared!r}; "
                               f"set code=STAGE_CODE({stage.name!r}) in the rule")
        current = code_of(stage.name)
        if current != declared:
            log.warning("the code of stage %s changed since the workflow started (%s, now %s)", stage.name, declared, current)
        tokens = gpu_tokens(smk.resources)
        threads = int(smk.threads)
        log.info("job: stage %s, rule %s, %d thread(s), %d gpu token(s), code %s", stage.name, smk.rule, threads, tokens,
                 current)
        if tokens:   # GPU jobs: hub files come from the cache prefetch_hub filled (docs/scaling.md)
            hub_offline()
            log.info("hub offline (%s=1)", "/".join(HUB_OFFLINE_VARIABLES))
        with gpu_slot(tokens) as claim:
            seed = int(smk.config["seed"])
            if stage.torch:
                device = configure_torch(smk.config, threads)
            else:
                import numpy as np

                random.seed(seed)
                np.random.seed(seed % 2**32)
                device = "cpu"
            run = importlib.import_module(stage.module).run
            run(Job(stage.name, smk.rule, smk.input, smk.output, smk.params, smk.wildcards, log_path, threads,
                    smk.resources, smk.config, device, claim))
        loaded = sorted(m for m in sys.modules if m == "editlab" or m.startswith("editlab."))
        log.info("editlab modules loaded: %s", ",".join(loaded))
