"""What a profile makes: its method lists, the files each stage reads and the workflow's target lists
(docs/scaling.md, "Params and targets").

`Targets(config)` answers the questions the rules used to answer themselves in `common.smk`: which SME
methods and long streams run, which fold files a (task, method) has, what a fold job or an NMT edit job
reads, and the target lists of `rule all` (`all_targets`). Paths come from `editlab.layout.Layout`,
defaults from the config dataclasses (`ReportSettings`, `LongStreamSettings`); nothing here is a second
literal of a default.

This module is read when the DAG is built, never by a job: it is in no stage's code closure, so editing
it reruns nothing by itself; what it changes reaches the jobs as their inputs and params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from editlab.config import from_section, param
from editlab.editors import methods
from editlab.errors import ConfigError
from editlab.layout import NMT_RANK_ONE_METHODS, NMT_TASK_FILES, TASKS, Layout
from editlab.results.settings import ReportSettings

# The SME methods of the editor registry (the dataclass below has a field `methods` that shadows the function).
SME_METHODS = tuple(methods("sme"))
# Files of the NMT data stage that the model and edit jobs read (key -> file name under nmt/data/).
NMT_CORPUS_FILES = {"train": "train.jsonl", "test": "test.jsonl", "lexicon": "lexicon.json"}
# Files of the results stage: the tables' formats.
TABLE_FORMATS = ("md", "tex", "html")


@dataclass(frozen=True)
class LongStreamSettings:
    """config section sme.long_stream: one stream over all folds of a task (the scaling figure)."""

    enabled: bool = param(description="run the long streams (and the long_stream figure)")
    methods: tuple[str, ...] = param(("tpatcher", "ft"), "SME methods run on the long stream", uniqueItems=True,
                                     items={"enum": list(SME_METHODS)})
    max_edits: dict[str, int] | None = param(
        None, "the long stream of a method stops after this many edits (null or absent: it visits every edit "
        "example); per method, e.g. {tpatcher: 2000, ft: 1000} (config/scale.yaml)",
        propertyNames={"enum": list(SME_METHODS)}, additionalProperties={"type": "integer", "minimum": 1})

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> LongStreamSettings:
        section = dict(section or {"enabled": False})
        if "methods" in section:
            section["methods"] = tuple(section["methods"])
        return from_section(cls, section, "sme.long_stream")


class Targets:
    """The method lists, stage inputs and target lists of one resolved, validated config."""

    def __init__(self, config: Mapping[str, Any], layout: Layout | None = None) -> None:
        self.config = config
        self.layout = layout or Layout.from_config(config)

    # --- config sections, with their dataclass defaults ---
    @cached_property
    def report(self) -> ReportSettings:
        return ReportSettings.from_config(self.config.get("report"))

    @cached_property
    def long_stream(self) -> LongStreamSettings:
        return LongStreamSettings.from_config((self.config.get("sme") or {}).get("long_stream"))

    def n_folds(self, task: str) -> int:
        return int(self.config["splits"][task]["n_folds"])

    def sme_methods(self) -> list[str]:
        """The SME methods run on every fold (sme.methods, required by the schema); none without `sme`."""
        return list((self.config.get("sme") or {}).get("methods", []))

    def long_stream_methods(self) -> list[str]:
        return list(self.long_stream.methods) if self.long_stream.enabled else []

    def long_stream_limit(self, stream: str, method: str) -> int | None:
        """sme.long_stream.max_edits of a long stream job of `method` (None for a fold or where unset)."""
        if stream != "long" or self.long_stream.max_edits is None:
            return None
        return self.long_stream.max_edits.get(method)

    def heatmap_fold(self) -> int:
        """The fold shown in the heat map; it must exist in every task."""
        fold = self.report.heatmap_fold
        n_folds = min(self.n_folds(task) for task in TASKS)
        if fold >= n_folds:
            raise ConfigError(f"config key 'report.heatmap_fold': fold {fold} does not exist "
                              f"(a task has only {n_folds} folds)")
        return fold

    # --- stages 1-3: data, splits, base models ---
    def data_source(self) -> str:
        """mini (generated offline), cao (the authors' files) or kilt (downloaded and back-translated)."""
        return str(self.config["data"]["source"])

    def ingest_sources(self) -> dict[str, str]:
        """The local (or downloaded) files the cao ingest reads, as rule inputs
        (editlab.stages.ingest_cao.ingest_sources)."""
        from editlab.stages.ingest_cao import ingest_sources

        return ingest_sources(self.config["data"], self.layout)

    def ingest_files(self) -> dict[str, str]:
        """data.files completed by the downloaded release files (the ingest job's `files` param)."""
        from editlab.stages.ingest_cao import ingest_files

        return ingest_files(self.config["data"], self.layout)

    def cao_downloads(self) -> dict[str, str]:
        """Release file name -> CAO_FILES key of each file download_cao fetches from the MEND Drive folder
        (none when data.cao.path names a local zip or folder)."""
        from editlab.layout import CAO_FILES
        from editlab.stages.ingest_cao import cao_downloads

        return {CAO_FILES[key][1]: key for key in cao_downloads(self.config["data"])}

    def cao_name_re(self) -> str:
        return "|".join(n.replace(".", r"\.") for n in self.cao_downloads())

    # --- hub models, tokenizers and datasets fetched on the submit host (workflow/rules/hub.smk) ---
    @cached_property
    def hub_items(self) -> dict[str, Any]:
        """role -> editlab.hub.HubItem of everything the profile's jobs load from the hub."""
        from editlab.hub_items import hub_items

        return hub_items(self.config)

    def hub_role_re(self) -> str:
        return "|".join(self.hub_items)

    def hub_markers(self, *roles: str) -> list[str]:
        """The prefetch markers a GPU job waits for (none when those roles are not hub downloads)."""
        return [self.layout.hub_marker(r) for r in roles if r in self.hub_items]

    def kilt_files(self) -> Mapping[str, Any]:
        """data.kilt.files: file name -> url (and sha256) of each KILT original to download."""
        return self.config["data"]["kilt"]["files"]

    def kilt_name_re(self) -> str:
        """The download rule's wildcard constraint: exactly the configured KILT file names."""
        return "|".join(n.replace(".", r"\.") for n in self.kilt_files())

    def fold_files(self, task: str) -> list[str]:
        return self.layout.fold_files(task, self.n_folds(task))

    def base_targets(self) -> list[str]:
        return [self.layout.base_metrics(task) for task in TASKS]

    # --- stage 4: SME streams ---
    def streams(self, task: str, stream: str) -> list[str]:
        """The fold names a stream visits: itself, or every fold of the task for the long stream."""
        return [f"fold{k}" for k in range(self.n_folds(task))] if stream == "long" else [stream]

    def sme_inputs(self, task: str, stream: str) -> dict[str, Any]:
        """Base model, data, the evaluation/memory splits, and the stream's fold file(s)."""
        return self.layout.stream_inputs(task, self.streams(task, stream))

    def sme_fold_outputs(self, task: str, method: str, filename: str) -> list[str]:
        """One contract file (summary.json, edits.jsonl, ...) of every fold of a task and method."""
        return [self.layout.sme_file(task, method, f"fold{k}", filename) for k in range(self.n_folds(task))]

    def sme_fold_benchmarks(self, task: str, method: str) -> list[str]:
        return [self.layout.sme_bench(task, method, f"fold{k}") for k in range(self.n_folds(task))]

    def sme_targets(self) -> list[str]:
        """Summaries of every SME stream: all folds x methods, plus the long streams when enabled."""
        targets: list[str] = []
        for task in TASKS:
            for method in self.sme_methods():
                targets += self.sme_fold_outputs(task, method, "summary.json")
            targets += [self.layout.sme_file(task, method, "long", "summary.json")
                        for method in self.long_stream_methods()]
        return targets

    # --- stages 5-6: tables and figures ---
    def sme_method_tables(self, kind: str) -> list[str]:
        return [self.layout.method_table(kind, task, method) for task in TASKS for method in self.sme_methods()]

    def edit_speed_files(self) -> list[str]:
        """benchmarks/edit_speed.py's JSON as stored by the editing stage, when the cost figure shows it."""
        return [self.layout.edit_speed()] if self.report.edit_speed else []

    def table_files(self, stem: str) -> list[str]:
        return self.layout.figure_files(stem, TABLE_FORMATS)

    def results_targets(self) -> list[str]:
        """Tables and the figures enabled in report.figures (DESIGN §11)."""
        figures = self.report.figures
        targets: list[str] = []
        if self.sme_methods():   # the fold streams' tables and figures (config/scale.yaml runs none)
            targets += [self.layout.table("sme"), self.layout.table("cost")]
            targets += self.table_files("table_main") + self.table_files("table_cost")
        else:
            figures = tuple(f for f in figures if f in ("long_stream", "scale_stream"))
        if "sme_curves" in figures:
            for task in TASKS:
                targets += self.layout.figure_files(f"sme_curves_{task}")
        if "patch_activations" in figures and "tpatcher" in self.sme_methods():
            for task in TASKS:
                targets += self.layout.figure_files(f"patch_activations_{task}")
        if "long_stream" in figures and self.long_stream_methods():
            targets += self.layout.figure_files("long_stream")
        if "scale_stream" in figures and self.long_stream_methods():
            targets += self.layout.figure_files("scale_stream")
        if "cost" in figures:
            targets += self.layout.figure_files("cost_per_edit")
        return targets

    # --- NMT rank-one editing (DESIGN §8) ---
    @property
    def nmt(self) -> Mapping[str, Any]:
        return self.config["nmt"]

    def nmt_source(self) -> str:
        """toy (toy pair, model trained here) or hub (a hub checkpoint and real sentences)."""
        return str(self.nmt["source"])

    def nmt_tasks(self) -> list[str]:
        return list(self.nmt["tasks"])

    def nmt_methods(self) -> list[str]:
        return list(self.nmt["methods"])

    def nmt_candidate_files(self) -> dict[str, str]:
        """Task files as written by the data stage, before the behaviour probe."""
        return {f"{task}_{kind}": self.layout.nmt_candidate_file(task, kind)
                for task in self.nmt_tasks() for kind in NMT_TASK_FILES}

    def nmt_task_candidates(self, task: str) -> list[str]:
        """The candidate files the probe of `task` reads."""
        return [self.layout.nmt_candidate_file(task, kind) for kind in NMT_TASK_FILES]

    def nmt_corpus_files(self) -> dict[str, str]:
        return {key: self.layout.nmt_data(name) for key, name in NMT_CORPUS_FILES.items()}

    def nmt_model_inputs(self) -> dict[str, Any]:
        """The toy model trains on the toy corpus; a hub model waits for its prefetch marker."""
        if self.nmt["source"] == "toy":
            return self.nmt_corpus_files()
        return {"hub": self.hub_markers("nmt_model")}

    def nmt_stats_file(self, task: str) -> str:
        from editlab.nmt.hparams import model_tag

        locus = self.nmt["locus"][task]
        return self.layout.nmt_stats(model_tag(self.nmt), locus["side"], locus["layer"])

    def nmt_edit_inputs(self, task: str, method: str) -> dict[str, str]:
        inputs = {**self.layout.nmt_task_files(task), "model": self.layout.nmt_model(),
                  "test": self.layout.nmt_data("test.jsonl"), "corpus": self.layout.nmt_data("train.jsonl")}
        if method in NMT_RANK_ONE_METHODS:
            inputs["stats"] = self.nmt_stats_file(task)
        return inputs

    def nmt_summary_files(self) -> list[str]:
        return [self.layout.nmt_edit_file(task, method, f"{kind}.json")
                for task in self.nmt_tasks() for method in self.nmt_methods() for kind in ("summary", "sequential")]

    def nmt_targets(self) -> list[str]:
        if "nmt" not in self.config or not self.config["nmt"].get("enabled", True):   # scale.yaml: none
            return []
        layout = self.layout
        return ([layout.table("nmt"), *layout.figure_files("nmt_table", ("md", "tex")),
                 *layout.figure_files("nmt_metrics"), layout.nmt("model_metrics.json")]
                + [layout.nmt_presence(task) for task in self.nmt_tasks()]
                + [layout.nmt_edit_file(task, method, "patch/patches.json")
                   for task in self.nmt_tasks() for method in self.nmt_methods() if method in NMT_RANK_ONE_METHODS])

    # --- rule all ---
    def sme_all_targets(self) -> list[str]:
        """The SME half of the workflow (the `sme_all` target): base models, folds, streams, tables, figures."""
        targets = self.base_targets()
        for task in TASKS:
            targets += self.fold_files(task)
        targets += self.sme_targets()
        if "sme" in self.config:  # the editing stage that feeds the results stage is configured
            targets += self.results_targets()
        return targets

    def all_targets(self) -> list[str]:
        return self.sme_all_targets() + self.nmt_targets()

