"""Job priorities on the real DAG of the default profile (editlab.stages.schedule): what Snakemake's scheduler
reads, per job, from a dry run of the workflow (tests/dag_jobs.py)."""

from __future__ import annotations

import pytest
from conftest import copy_workflow
from dag_jobs import run_dag_jobs

from editlab.stages.schedule import job_priority


@pytest.mark.slow
def test_the_default_dag_starts_gates_first_and_long_streams_before_folds(tmp_path):
    jobs = run_dag_jobs(copy_workflow(tmp_path / "wf"), "config.yaml")
    prio: dict[str, list[int]] = {}
    for job in jobs:
        wc = job["wildcards"]
        if job["rule"] in ("sme_tpatcher", "sme_baseline"):
            kind = "long" if wc["stream"] == "long" else wc.get("method", "tpatcher")
        elif job["rule"].startswith("nmt_edit"):
            kind = f"nmt_edit:{wc['method']}"
        else:
            kind = job["rule"]
        prio.setdefault(kind, []).append(job["priority"])
    # every kind of job of the default run is there, and its jobs share one priority
    assert {"base_model", "nmt_model", "long", "ftkl", "tpatcher", "ft", "nmt_edit:tpatcher", "nmt_edit:rome",
            "main_table"} <= prio.keys()
    level = {k: v[0] for k, v in prio.items()}
    assert all(len(set(v)) == 1 for v in prio.values()), prio
    order = ["base_model", "nmt_model", "long", "ftkl", "tpatcher", "ft", "nmt_edit:tpatcher", "nmt_edit:rome",
             "main_table"]
    assert all(level[a] > level[b] for a, b in zip(order, order[1:])), level   # strictly in this order
    assert level["nmt_edit:ft"] == level["nmt_edit:r-rome"] == level["nmt_edit:rome"]
    # what the rules ask the library for is what the scheduler got
    assert level["long"] == job_priority("sme_stream", method="ft", stream="long")
    assert level["ftkl"] == job_priority("sme_stream", method="ftkl", stream="fold0")
    assert level["main_table"] == 0 and level["base_model"] == max(level.values())
    # what the base models wait for has their priority (Snakemake does not pass it upstream)
    assert level["mini_data"] == level["splits"] == level["fold"] == level["base_model"]
    assert level["nmt_toy_data"] == level["nmt_model"]
