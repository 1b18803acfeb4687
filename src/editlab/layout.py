"""Where a run keeps its files: the one source of every path under results/, figures/, logs/ and
benchmarks/out/ of a profile (docs/scaling.md, "Layout").

The workflow rules, the stage functions, `editlab.sme.speed` and `benchmarks/` all ask a `Layout` for
paths; nothing else spells them. Paths are strings relative to the workflow directory (Snakemake's
working directory), so that a rule can pass wildcard templates such as `layout.sme_file("{task}", ...)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TASKS = ("fever", "zsre")
SPLIT_NAMES = ("train", "val", "edit", "test", "trainr", "memory")
# The contract files of an SME stream directory; tpatcher streams add its patch and activation files.
SME_FILES = {"edits": "edits.jsonl", "curve": "curve.jsonl", "summary": "summary.json"}
TPATCHER_FILES = {"activations": "activations.npz", "patches": "patches.safetensors", "patches_meta": "patches.json",
                  "final_predictions": "final_predictions.jsonl"}
NMT_TASK_FILES = ("requests", "generalization", "specificity")
NMT_RANK_ONE_METHODS = ("rome", "r-rome")
# A task's file names in the Cao et al. / MEND release; a run keeps its data files under these names,
# whatever the source (mini, cao, kilt).
RELEASE_NAMES = {"fever": "fever-{split}-kilt.jsonl", "zsre": "structured_zeroshot-{split}-new_annotated_final.jsonl"}
# Workflow key -> (task, release file name).
CAO_FILES = {f"{task}_{split}": (task, RELEASE_NAMES[task].format(split=split))
             for task in TASKS for split in ("train", "dev")}


def cao_path(data_dir: str | Path, task: str, split: str) -> Path:
    """Where a run keeps a task's `train` / `dev` file: `<data_dir>/<task>/<release file name>` (`split` may
    be a wildcard such as "{split}")."""
    return Path(data_dir) / task / RELEASE_NAMES[task].format(split=split)


@dataclass(frozen=True)
class Layout:
    """Every path of the profile `name`, below the workflow directory `root` ("" = the working directory)."""

    name: str
    root: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any], root: str | Path = "") -> Layout:
        return cls(str(config["name"]), str(root) if str(root) not in ("", ".") else "")

    def _under(self, top: str, *parts: object) -> str:
        rel = "/".join([top, self.name, *(str(p) for p in parts)])
        return f"{self.root}/{rel}" if self.root else rel

    # --- the four trees of a profile ---
    def results(self, *parts: object) -> str:
        return self._under("results", *parts)

    def figures(self, *parts: object) -> str:
        return self._under("figures", *parts)

    def logs(self, *parts: object) -> str:
        return self._under("logs", *parts)

    def bench(self, *parts: object) -> str:
        return self._under("benchmarks/out", *parts)

    # --- stage 1: data ---
    def data_dir(self) -> str:
        return self.results("data")

    def data_file(self, task: str, split: str) -> str:
        """A task's Cao-format `train` / `dev` file (the release file names, CAO_FILES)."""
        return cao_path(self.data_dir(), task, split).as_posix()

    def data_files(self, task: str) -> dict[str, str]:
        """Keys train_data, dev_data, as the stream and split stages read them."""
        return {"train_data": self.data_file(task, "train"), "dev_data": self.data_file(task, "dev")}

    def world(self) -> str:
        return self.results("data", "world.json")

    def kilt_file(self, name: str) -> str:
        return self.results("data", "kilt", name)

    def cao_download(self, name: str) -> str:
        """A Cao et al. release file as downloaded from the MEND Drive folder (before the ingest's checks)."""
        return self.results("data", "cao", name)

    def hub_marker(self, role: str) -> str:
        """What prefetch_hub fetched for one hub model / tokenizer / dataset (`role`, e.g. base_fever)."""
        return self.results("hub", f"{role}.json")

    # --- stage 2: splits ---
    def split_file(self, task: str, split: str) -> str:
        return self.results("splits", task, f"{split}.txt")

    def split_files(self, task: str) -> dict[str, str]:
        return {s: self.split_file(task, s) for s in SPLIT_NAMES}

    def fold_file(self, task: str, k: object) -> str:
        return self.results("splits", task, f"fold{k}.txt")

    def fold_files(self, task: str, n_folds: int) -> list[str]:
        return [self.fold_file(task, k) for k in range(n_folds)]

    # --- stage 3: base models ---
    def base_model(self, task: str) -> str:
        return self.results("base", task, "model")

    def base_metrics(self, task: str) -> str:
        return self.results("base", task, "metrics.json")

    # --- stage 4: SME streams (a fold `fold{k}` or `long`) ---
    def sme_dir(self, task: str, method: str, stream: object) -> str:
        return self.results("sme", task, method, stream)

    def sme_file(self, task: str, method: str, stream: object, filename: str) -> str:
        return f"{self.sme_dir(task, method, stream)}/{filename}"

    def sme_outputs(self, task: str, method: str, stream: object) -> dict[str, str]:
        """The output files of one stream job, keyed by the names the stage reads (summary, edits, ...)."""
        names = {**SME_FILES, **(TPATCHER_FILES if method == "tpatcher" else {})}
        return {key: self.sme_file(task, method, stream, n) for key, n in names.items()}

    def stream_inputs(self, task: str, streams: Sequence[object]) -> dict[str, Any]:
        """What an SME stream job reads: base model, data, the evaluation/memory splits and its fold file(s)."""
        splits = self.split_files(task)
        return {"base_model": self.base_model(task), **self.data_files(task),
                **{name: splits[name] for name in ("trainr", "test", "memory", "val")},
                "folds": [self.results("splits", task, f"{s}.txt") for s in streams]}

    def sme_bench(self, task: str, method: str, stream: object) -> str:
        return self.bench("sme", task, method, f"{stream}.tsv")

    def sme_reference_dir(self, task: str, method: str, stream: object) -> str:
        """benchmarks/path_agreement.py's reference-path streams, beside the workflow's cached-path ones."""
        return self.results("sme_reference", task, method, stream)

    def edit_speed(self) -> str:
        return self.results("benchmarks", "edit_speed.json")

    # --- stage 5/6: tables and figures ---
    def table(self, kind: str) -> str:
        return self.results("tables", f"{kind}.csv")

    def table_provenance(self, kind: str) -> str:
        return self.results("tables", f"{kind}.provenance.json")

    def method_table(self, kind: str, task: str, method: str) -> str:
        return self.results("tables", kind, task, f"{method}.csv")

    def figure(self, stem: str, ext: str) -> str:
        return self.figures(f"{stem}.{ext}")

    def figure_files(self, stem: str, exts: Sequence[str] = ("pdf", "png")) -> list[str]:
        return [self.figure(stem, e) for e in exts]

    # --- NMT rank-one editing ---
    def nmt(self, *parts: object) -> str:
        return self.results("nmt", *parts)

    def nmt_data(self, filename: str) -> str:
        return self.nmt("data", filename)

    def nmt_model(self) -> str:
        return self.nmt("model")

    def nmt_candidate_file(self, task: str, kind: str) -> str:
        """A task file as written by the data stage, before the behaviour probe."""
        return self.nmt("data", "candidates", task, f"{kind}.jsonl")

    def nmt_task_files(self, task: str) -> dict[str, str]:
        """A task's files after the probe: only requests that really show the behaviour, with negatives."""
        return {kind: self.nmt("tasks", task, f"{kind}.jsonl") for kind in NMT_TASK_FILES}

    def nmt_presence(self, task: str) -> str:
        return self.nmt("tasks", task, "presence.json")

    def nmt_stats(self, tag: str, side: str, layer: object) -> str:
        return self.nmt("stats", tag, f"{side}_layer{layer}.safetensors")

    def nmt_edit_file(self, task: str, method: str, filename: str) -> str:
        return self.nmt(task, method, filename)
