"""Which config keys a real job reads (not collected by pytest).

`python job_reads.py SPEC.json OUT.json` runs jobs, one after another, in the real job wrapper
(`editlab.stages.job.run_job`, which runs the stage's `run(job)`), with the job's config and its mapping
params wrapped in `Recorder`s, and writes for each job the key paths it read: `config.sme.ft.lr`,
`params.nmt.eval.max_new_tokens`, ... and those it asked for but did not find (a `.get` default or a
KeyError). SPEC is a list of jobs: stage, rule, input, output, params, wildcards, log, config.

A subprocess, because the wrapper sets up process-wide logging and CUDA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


class ReadLog:
    def __init__(self) -> None:
        self.read: set[str] = set()
        self.missing: set[str] = set()


class Recorder(Mapping[str, Any]):
    """A read-only view of a config mapping that notes every key whose value is read (leaves as full paths;
    a nested mapping is a Recorder itself). Iterating over keys reads no value; `items()` / `values()` /
    `dict(view)` read them all, as code that copies a section does."""

    def __init__(self, data: Mapping[str, Any], path: str, log: ReadLog) -> None:
        self._data, self._path, self._log = data, path, log

    def _value(self, key: str) -> Any:
        path = f"{self._path}.{key}"
        value = self._data[key]
        if isinstance(value, Mapping):
            self._log.read.add(path + ".")      # the section itself was looked at
            return Recorder(value, path, self._log)
        self._log.read.add(path)
        return value

    def __getitem__(self, key: str) -> Any:
        if key not in self._data:
            self._log.missing.add(f"{self._path}.{key}")
            raise KeyError(key)
        return self._value(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._data:
            self._log.missing.add(f"{self._path}.{key}")
            return default
        return self._value(key)

    def __contains__(self, key: object) -> bool:
        if key not in self._data:
            self._log.missing.add(f"{self._path}.{key}")
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:       # provenance hashes repr the config: that is no read of a value
        return repr(self._data)


def _namedlist(value: Any) -> Any:
    from snakemake.iocontainers import Namedlist

    if isinstance(value, Mapping):
        return Namedlist(fromdict=dict(value))
    return Namedlist(toclone=list(value))


def run_recorded(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    from types import SimpleNamespace

    from editlab.stages import get_stage, stage_code
    from editlab.stages.job import run_job

    log = ReadLog()
    params = {k: Recorder(v, f"params.{k}", log) if isinstance(v, Mapping) else v for k, v in spec["params"].items()}
    smk = SimpleNamespace(rule=spec["rule"], input=_namedlist(spec["input"]), output=_namedlist(spec["output"]),
                          params=_namedlist(params), wildcards=_namedlist(spec["wildcards"]),
                          log=_namedlist([spec["log"]]), threads=1, resources=_namedlist({"gpu": 0}),
                          config=Recorder(spec["config"], "config", log))
    run_job(get_stage(spec["stage"]), smk, stage_code)
    return {"read": sorted(log.read), "missing": sorted(log.missing)}


if __name__ == "__main__":
    jobs = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps([run_recorded(job) for job in jobs], indent=1))
