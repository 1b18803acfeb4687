"""Where a workflow run's time went: job-seconds per stage and method, from the run's own records.

Reads the Snakemake benchmark TSVs of a profile (`benchmarks/out/{name}/**.tsv`, one per costly job) and,
when there is one, the newest Snakemake log of the run (`.snakemake/log/*.snakemake.log`, every job's start
and finish, to the second). Prints the job-seconds of each group of jobs, their share, and what they imply
for the wall time on `--cores` cores: a run cannot finish before its job-seconds divided by the cores it has
(jobs here run one torch thread each). Run it in the directory the workflow ran in:

    python benchmarks/run_time.py                  # the mini profile, 2 cores
    python benchmarks/run_time.py --profile ci --cores 2
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from editlab.errors import DataFormatError
from editlab.results.fold_outputs import read_benchmark_seconds

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_JOBID = re.compile(r"^\s+jobid: (\d+)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+)")


def group_of(rel: Path) -> str:
    """The group of a benchmark file, from its path below benchmarks/out/{name}/ (editlab.layout)."""
    parts = rel.with_suffix("").parts
    if parts[0] == "sme" and len(parts) == 4:        # sme/{task}/{method}/{stream}
        _, task, method, stream = parts
        return f"SME {method} {'long stream' if stream == 'long' else 'folds'} ({task})"
    if parts[0] == "base":
        return f"base model ({parts[1]})"
    if parts[0] == "nmt":
        name = parts[-1]
        if name.startswith("edit_"):
            return f"NMT edit {name.rsplit('_', 1)[-1]}"
        return "NMT statistics" if name.startswith("stats_") else f"NMT {name}"
    return parts[0]


def benchmark_table(root: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        try:
            seconds = read_benchmark_seconds(path)
        except DataFormatError as err:
            raise SystemExit(str(err)) from None
        rows.append({"group": group_of(path.relative_to(root)), "file": str(path.relative_to(root)),
                     "seconds": seconds})
    if not rows:
        raise SystemExit(f"{root}: no benchmark files (has the workflow run with this profile here?)")
    return pd.DataFrame(rows)


def log_jobs(log: Path) -> tuple[list[tuple[str, float]], float]:
    """(rule, wall seconds) of every finished job of a Snakemake log, and the run's span in seconds."""
    stamp, rule = None, None
    first = last = None
    started: dict[int, tuple[str, datetime]] = {}
    jobs: list[tuple[str, float]] = []
    for line in log.read_text().splitlines():
        if m := _STAMP.match(line):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            first, last = first or stamp, stamp
        elif m := _RULE.match(line):
            rule = m.group(1)
        elif (m := _JOBID.match(line)) and rule and stamp:
            started[int(m.group(1))] = (rule, stamp)
        elif (m := _FINISHED.match(line)) and int(m.group(1)) in started and stamp:
            name, start = started.pop(int(m.group(1)))
            jobs.append((name, (stamp - start).total_seconds()))
    return jobs, (last - first).total_seconds() if first and last else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="mini", help="the profile's name (config key `name`)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--log", type=Path, help="Snakemake log (default: the newest in .snakemake/log/)")
    args = parser.parse_args()

    table = benchmark_table(Path("benchmarks/out") / args.profile)
    total = table["seconds"].sum()
    groups = table.groupby("group")["seconds"].agg(jobs="count", job_seconds="sum").sort_values(
        "job_seconds", ascending=False)
    groups["share"] = (groups["job_seconds"] / total).map("{:.1%}".format)
    groups["job_seconds"] = groups["job_seconds"].round(1)
    print(f"benchmark TSVs of profile {args.profile!r}: {len(table)} jobs, {total:,.0f} job-seconds")
    print(groups.to_string())
    print(f"\nthese jobs alone need >= {total / args.cores:,.0f} s wall on {args.cores} cores")

    logs = sorted(Path(".snakemake/log").glob("*.snakemake.log"))
    log = args.log or (logs[-1] if logs else None)
    if log is None:
        return
    jobs, span = log_jobs(log)
    if not jobs:
        print(f"\n{log}: no finished jobs")
        return
    logged = sum(seconds for _, seconds in jobs)
    print(f"\n{log}: {len(jobs)} jobs, {logged:,.0f} job-seconds in {span:,.0f} s wall "
          f"({logged / span:.2f} jobs running on average)" if span else f"\n{log}: {len(jobs)} jobs")
    print(f"jobs without a benchmark file: {logged - total:,.0f} job-seconds "
          "(the log's whole seconds, so a little more than the TSVs give)")


if __name__ == "__main__":
    main()
