"""Job priorities, the rules' `priority:` (docs/scaling.md, "Scheduling").

Snakemake starts the ready job of highest priority first. Without priorities a run on few cores started jobs
in DAG order: the mini run of 2026-12-06 began the FEVER base model 66 s late, behind the NMT branch, and
started the 176-s FEVER long stream 1,268 s into its 1,463 s. The order here is longest first among what is ready
(longest-processing-time scheduling) with the jobs that gate many others ahead: the base models, then the
NMT model and its statistics, then the editing streams from the longest (a long stream) to the shortest
(an FT fold), then the short NMT edits that fill the gaps. Priorities only order jobs; no output depends
on them.
"""

from __future__ import annotations

# Gate many jobs: every editing job waits for a base model, every NMT job for the NMT model. Snakemake does not
# pass a priority on to the jobs a job waits for, so the short data and split jobs before them are listed too
# (without them the FEVER splits, at 0, waited behind the whole NMT branch).
_GATES = {"mini_data": 100, "splits": 100, "fold": 100, "base_model": 100,
          "nmt_toy_data": 90, "nmt_model": 90, "nmt_stats": 85, "nmt_probe": 85}
# Editing streams by their measured length in the mini run (benchmarks/out/mini): a long stream (all folds in
# one stream) > an FT+KL fold > a T-Patcher fold > an FT fold.
_STREAMS = {"long": 80, "ftkl": 70, "tpatcher": 60, "ft": 50}
# NMT edit jobs: 7-60 s each, T-Patcher the longest.
_NMT_EDIT = {"tpatcher": 30, "other": 20}


def job_priority(stage: str, method: str = "", stream: str = "") -> int:
    """Snakemake priority of a job of `stage` (larger first): `method` and `stream` of an editing job; stages
    not listed (tables, figures, data) 0."""
    if stage in _GATES:
        return _GATES[stage]
    if stage == "sme_stream":
        return _STREAMS["long" if stream == "long" else method]
    if stage == "nmt_edit":
        return _NMT_EDIT.get(method, _NMT_EDIT["other"])
    return 0
