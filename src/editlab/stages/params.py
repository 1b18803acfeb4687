"""The config values each stage's jobs depend on, declared once per stage (docs/scaling.md, "Params and targets").

A rule passes `**STAGE_PARAMS("<stage>")` as its params: the values its stage's jobs read from the config,
under the names the stage reads them (`job.params.sme`, `job.params.nmt`, ...). Snakemake's params rerun
trigger then reruns a job exactly when one of them changes: a fold job of `ft` carries `sme.ft` and the
shared `sme` keys but no other method's section, so tuning `sme.ft.lr` reruns only the `ft` folds; an NMT
job carries the `nmt` keys its stage reads and no others (`NMT_KEYS`).

A declaration is a function of the config's `Targets` and the job's wildcards. When the rule fixes every
wildcard the stage's params use (`sme_tpatcher` fixes method=tpatcher), the params are plain values;
otherwise each is a function of the job's wildcards. Either way the values are those the rule files kept by
hand before (tests/test_stage_params.py compares them, job by job, on the real DAG).

Like `editlab.stages.targets`, this module is read when the DAG is built and by no job, so it is in no
stage's code closure: a change here reaches the jobs through the values it produces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from editlab.editors import methods
from editlab.errors import EditlabError
from editlab.layout import TASKS
from editlab.stages.targets import Targets

Wildcards = Mapping[str, str]

# The sme sections of one method each (sme.<method>, the editor registry's SME methods): a fold job carries
# its own only. `methods` and `long_stream` choose the jobs and are no job's input.
SME_METHOD_SECTIONS = methods("sme")
SME_JOB_EXCLUDED = ("methods", "long_stream")
# The nmt keys each NMT stage reads from `job.params.nmt` (in this order: the params' repr keeps it).
NMT_KEYS: Mapping[str, tuple[str, ...]] = {
    "nmt_toy_data": ("toy", "tasks"),
    "nmt_hub_data": ("hub_data", "stats", "eval", "tasks"),
    "nmt_model": ("source", "hub_id", "revision", "model"),
    "nmt_model_metrics": ("eval",),
    "nmt_probe": ("min_presence", "eval"),
    "nmt_stats": ("stats", "source", "hub_id"),
}
# The nmt section holding the hyperparameters of each NMT method (editlab.nmt.hparams reads it).
NMT_METHOD_SECTION: Mapping[str, str] = {"rome": "rome", "r-rome": "rome", "ft": "ft", "tpatcher": "tpatcher"}
# Torch threads of a job when the config names none (as editlab.runtime.configure_torch).
ONE_THREAD = 1


def sme_settings(config: Mapping[str, Any], method: str) -> dict[str, Any]:
    """The `sme` config a fold job of `method` depends on: the shared keys and its own hyperparameters only,
    so tuning one method (or listing another) reruns only that method's folds."""
    return {k: v for k, v in config["sme"].items()
            if k not in (*SME_JOB_EXCLUDED, *SME_METHOD_SECTIONS) or k == method}


def nmt_settings(config: Mapping[str, Any], stage: str) -> dict[str, Any]:
    """The nmt keys stage `stage` reads (NMT_KEYS), those the config has."""
    nmt = config["nmt"]
    return {k: nmt[k] for k in NMT_KEYS[stage] if k in nmt}


def nmt_edit_settings(config: Mapping[str, Any], task: str, method: str) -> dict[str, Any]:
    """What an NMT edit job of (task, method) reads: its task's locus, its method's section, eval."""
    nmt = config["nmt"]
    if method not in NMT_METHOD_SECTION:
        raise EditlabError(f"NMT method {method!r} has no config section (known: {', '.join(NMT_METHOD_SECTION)})")
    section = NMT_METHOD_SECTION[method]
    return {"locus": {task: nmt["locus"][task]}, section: nmt.get(section, {}), "eval": nmt["eval"]}


# --- the declarations: stage -> its params ----------------------------------------------------------------

Values = Callable[[Targets, Wildcards], dict[str, Any]]


@dataclass(frozen=True)
class ParamSpec:
    """The params of a stage's jobs: their names, the wildcards they depend on, and how to compute them."""

    names: tuple[str, ...]
    values: Values
    wildcards: tuple[str, ...] = ()


def _seed(t: Targets) -> int:
    return t.config["seed"]


def _report(t: Targets) -> Any:
    return t.config.get("report", {})


def _profile(t: Targets) -> str:
    return t.config["name"]


def _cao_download(t: Targets, key: str) -> dict[str, Any]:
    """download_cao's params: the release file's key and only its part of the `data` config."""
    from editlab.data.gdrive import download_settings

    return {"key": key, "data": download_settings(t.config["data"], key)}


def _kilt_file(t: Targets, name: str) -> Mapping[str, Any]:
    return t.kilt_files()[name]


def _sme_curves_runs(t: Targets, task: str) -> dict[str, list[tuple[str, ...]]]:
    return {m: list(zip(t.sme_fold_outputs(task, m, "edits.jsonl"), t.sme_fold_outputs(task, m, "curve.jsonl")))
            for m in t.sme_methods()}


def _long_stream_runs(t: Targets) -> dict[str, dict[str, tuple[str, str]]]:
    sme_file = t.layout.sme_file
    return {task: {m: (sme_file(task, m, "long", "edits.jsonl"), sme_file(task, m, "long", "curve.jsonl"))
                   for m in t.long_stream_methods()} for task in TASKS}


def _cost_runs(t: Targets) -> dict[str, dict[str, list[tuple[str, ...]]]]:
    return {task: {m: list(zip(t.sme_fold_outputs(task, m, "edits.jsonl"), t.sme_fold_outputs(task, m, "summary.json"),
                               t.sme_fold_benchmarks(task, m)))
                   for m in t.sme_methods()} for task in TASKS}


def _nmt(stage: str, seed: bool) -> ParamSpec:
    if seed:
        return ParamSpec(("nmt", "seed"), lambda t, w: {"nmt": nmt_settings(t.config, stage), "seed": _seed(t)})
    return ParamSpec(("nmt",), lambda t, w: {"nmt": nmt_settings(t.config, stage)})


PARAMS: Mapping[str, ParamSpec] = {
    "mini_data": ParamSpec(("mini", "seed"), lambda t, w: {"mini": t.config["data"].get("mini"), "seed": _seed(t)}),
    "ingest_cao": ParamSpec(("data", "files"), lambda t, w: {"data": t.config["data"], "files": t.ingest_files()}),
    # only this file's settings, so that pinning another file's id or hash reruns nothing here
    "download_cao": ParamSpec(("key", "data"), lambda t, w: _cao_download(t, t.cao_downloads()[w["name"]]),
                              wildcards=("name",)),
    "prefetch_hub": ParamSpec(("item",), lambda t, w: {"item": asdict(t.hub_items[w["role"]])}, wildcards=("role",)),
    "download_file": ParamSpec(
        ("url", "sha256", "download"),
        lambda t, w: {"url": _kilt_file(t, w["name"])["url"], "sha256": _kilt_file(t, w["name"]).get("sha256"),
                      "download": t.config["data"].get("download", {})},
        wildcards=("name",)),
    "backtranslate": ParamSpec(("backtranslate",),
                               lambda t, w: {"backtranslate": t.config["data"].get("backtranslate", {})}),
    "splits": ParamSpec(("split", "seed"), lambda t, w: {"split": t.config["splits"][w["task"]], "seed": _seed(t)},
                        wildcards=("task",)),
    "fold": ParamSpec(("n_folds", "seed"),
                      lambda t, w: {"n_folds": t.config["splits"][w["task"]]["n_folds"], "seed": _seed(t)},
                      wildcards=("task",)),
    "base_model": ParamSpec(("base", "seed"), lambda t, w: {"base": t.config["base"][w["task"]], "seed": _seed(t)},
                            wildcards=("task",)),
    "sme_stream": ParamSpec(
        ("method", "sme", "max_edits", "seed"),
        lambda t, w: {"method": w["method"], "sme": sme_settings(t.config, w["method"]),
                      "max_edits": t.long_stream_limit(w["stream"], w["method"]), "seed": _seed(t)},
        wildcards=("method", "stream")),
    "edit_speed": ParamSpec(("settings", "sme"), lambda t, w: {"settings": t.report.edit_speed_settings,
                                                               "sme": sme_settings(t.config, "tpatcher")}),
    "aggregate_sme": ParamSpec(("report",), lambda t, w: {"report": _report(t)}),
    "cost_sme": ParamSpec(("report",), lambda t, w: {"report": _report(t)}),
    "collect_tables": ParamSpec((), lambda t, w: {}),
    "render_table": ParamSpec(("kind", "methods", "tasks", "profile"),
                              lambda t, w: {"kind": w["kind"], "methods": t.sme_methods(), "tasks": list(TASKS),
                                            "profile": _profile(t)},
                              wildcards=("kind",)),
    "fig_sme_curves": ParamSpec(("runs", "report", "profile"),
                                lambda t, w: {"runs": _sme_curves_runs(t, w["task"]), "report": _report(t),
                                              "profile": _profile(t)},
                                wildcards=("task",)),
    "fig_patch_activations": ParamSpec(("fold", "report", "profile"),
                                       lambda t, w: {"fold": t.heatmap_fold(), "report": _report(t),
                                                     "profile": _profile(t)}),
    "fig_long_stream": ParamSpec(("runs", "methods", "report", "profile"),
                                 lambda t, w: {"runs": _long_stream_runs(t), "methods": t.long_stream_methods(),
                                               "report": _report(t), "profile": _profile(t)}),
    "fig_scale_stream": ParamSpec(("runs", "methods", "report", "profile"),
                                  lambda t, w: {"runs": _long_stream_runs(t), "methods": t.long_stream_methods(),
                                                "report": _report(t), "profile": _profile(t)}),
    "fig_cost": ParamSpec(("runs", "report", "profile"),
                          lambda t, w: {"runs": _cost_runs(t), "report": _report(t), "profile": _profile(t)}),
    "nmt_toy_data": _nmt("nmt_toy_data", seed=True),
    "nmt_hub_data": _nmt("nmt_hub_data", seed=True),
    "nmt_model": _nmt("nmt_model", seed=True),
    "nmt_model_metrics": _nmt("nmt_model_metrics", seed=False),
    "nmt_probe": _nmt("nmt_probe", seed=False),
    "nmt_stats": _nmt("nmt_stats", seed=False),
    "nmt_edit": ParamSpec(("nmt", "seed"),
                          lambda t, w: {"nmt": nmt_edit_settings(t.config, w["task"], w["method"]), "seed": _seed(t)},
                          wildcards=("task", "method")),
    "nmt_table": ParamSpec((), lambda t, w: {}),
    "nmt_figure": ParamSpec((), lambda t, w: {}),
}


class StageParams:
    """The params of every stage for one resolved, validated config, for the Snakefile and the tests."""

    def __init__(self, config: Mapping[str, Any], targets: Targets | None = None) -> None:
        self.config = config
        self.targets = targets or Targets(config)

    def values(self, stage: str, wildcards: Wildcards) -> dict[str, Any]:
        """The params of one job of `stage` with these wildcards (and any values the rule fixes)."""
        spec = _spec(stage)
        missing = [w for w in spec.wildcards if w not in wildcards]
        if missing:
            raise EditlabError(f"params of stage {stage}: wildcard(s) {', '.join(missing)} not given")
        out = spec.values(self.targets, wildcards)
        if tuple(out) != spec.names:
            raise EditlabError(f"params of stage {stage}: computed {tuple(out)}, declared {spec.names}")
        return out

    def __call__(self, stage: str, **fixed: str) -> dict[str, Any]:
        """A rule's params (`params: **STAGE_PARAMS("sme_stream", method="tpatcher")`): plain values when
        `fixed` gives every wildcard the stage's params use, else one function of the job's wildcards each."""
        spec = _spec(stage)
        if all(w in fixed for w in spec.wildcards):
            return self.values(stage, fixed)
        return {name: self._of_wildcards(stage, name, fixed) for name in spec.names}

    def _of_wildcards(self, stage: str, name: str, fixed: Wildcards) -> Callable[[Any], Any]:
        def value(wildcards: Any) -> Any:
            return self.values(stage, {**dict(wildcards.items()), **fixed})[name]

        return value

    def threads(self, stage: str) -> int:
        """Torch threads of a job: sme.threads for the fold jobs, the top-level `threads` for the base models."""
        if stage == "sme_stream":
            return self.config["sme"].get("threads", ONE_THREAD)
        if stage == "base_model":
            return self.config.get("threads", ONE_THREAD)
        raise EditlabError(f"stage {stage} takes its threads from its rule")


def _spec(stage: str) -> ParamSpec:
    if stage not in PARAMS:
        raise EditlabError(f"no params declared for stage {stage!r} (known: {', '.join(sorted(PARAMS))})")
    return PARAMS[stage]
