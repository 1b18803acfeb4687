"""Every job of the workflow's real DAG with its params, as Snakemake itself sees them (not collected by pytest).

Run in a workflow copy: `python dag_jobs.py OUT.json [--config JSON] CONFIGFILE...`. Builds the DAG of the
default target with the Snakemake API (a dry run: nothing is executed or written but .snakemake/), and
writes one record per job: rule, wildcards, each named param as its repr, `recorded`, the param list
Snakemake stores in its metadata and compares for the params rerun trigger (persistence._params), and the
scheduling `priority` Snakemake gave the job.

A subprocess of its own, so that the Snakefile's sys.path and config handling touch no test process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def dag_jobs(configfiles: list[str], overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, Quietness, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                          config_settings=ConfigSettings(configfiles=[Path(c) for c in configfiles],
                                                         config=overrides or {}),
                          snakefile=Path("Snakefile"), workdir=Path.cwd())
        wf.dag().execute_workflow(executor="dryrun")
        workflow = wf._workflow  # the API has no public accessor for the built DAG
        return [{"rule": job.rule.name, "wildcards": dict(job.wildcards_dict),
                 "params": {name: repr(value) for name, value in job.params.items()},
                 "recorded": workflow.persistence._params(job), "priority": job.priority}
                for job in sorted(workflow.dag.jobs, key=lambda j: (j.rule.name, sorted(j.wildcards_dict.items())))]


def run_dag_jobs(workdir: Path, *configfiles: str, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """dag_jobs in a subprocess in `workdir` (a workflow copy)."""
    out = workdir / "dag_jobs.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), str(out), "--config", json.dumps(overrides or {}),
           *configfiles]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"dag_jobs failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return json.loads(out.read_text())


if __name__ == "__main__":
    args = sys.argv[1:]
    target, overrides = args[0], {}
    if len(args) > 2 and args[1] == "--config":
        overrides, args = json.loads(args[2]), [args[0], *args[3:]]
    Path(target).write_text(json.dumps(dag_jobs(args[1:], overrides), indent=1))
