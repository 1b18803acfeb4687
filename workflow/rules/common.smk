# Shared paths and input functions. Every output lives under results/{name}/ (DESIGN §11).

from editlab.layout import NMT_RANK_ONE_METHODS, NMT_TASK_FILES, TASKS, Layout
from editlab.stages import StageCode
from editlab.stages.ingest_cao import ingest_sources

NAME = config["name"]
# Every path comes from the library's layout (editlab.layout); LOGS and BENCH are its trees for log/benchmark lines.
LAYOUT = Layout.from_config(config)
LOGS = LAYOUT.logs()
BENCH = LAYOUT.bench()
TASKS = list(TASKS)
# params.code of a rule: the digest of its stage's import closure (editlab.stages.codedeps), so that any
# change of code a job imports, and only that, reruns it (Snakemake's params rerun trigger).
STAGE_CODE = StageCode(SRC)


def data_files(task):
    """The Cao-format train/dev files of a task (keys train_data, dev_data), whatever the source (mini, cao, kilt)."""
    return LAYOUT.data_files(task)


def split_files(task):
    return LAYOUT.split_files(task)


def fold_files(task):
    return LAYOUT.fold_files(task, config["splits"][task]["n_folds"])


def base_targets():
    return [LAYOUT.base_metrics(task) for task in TASKS]


DEFAULT_SME_METHODS = ["tpatcher", "ft", "ftkl"]
DEFAULT_LONG_STREAM_METHODS = ["tpatcher", "ft"]


def sme_methods():
    return config.get("sme", {}).get("methods", DEFAULT_SME_METHODS)


def long_stream_methods():
    long_stream = config.get("sme", {}).get("long_stream", {})
    return (
        long_stream.get("methods", DEFAULT_LONG_STREAM_METHODS)
        if long_stream.get("enabled", False)
        else []
    )


def report_section():
    return config.get("report", {})


def sme_fold_outputs(task, method, filename):
    """One contract file (summary.json, edits.jsonl, ...) of every fold of a task and method."""
    return [
        LAYOUT.sme_file(task, method, f"fold{k}", filename)
        for k in range(config["splits"][task]["n_folds"])
    ]


def sme_fold_benchmarks(task, method):
    return [
        LAYOUT.sme_bench(task, method, f"fold{k}")
        for k in range(config["splits"][task]["n_folds"])
    ]


def sme_method_tables(kind):
    return [
        LAYOUT.method_table(kind, task, method)
        for task in TASKS
        for method in sme_methods()
    ]


def edit_speed_files():
    """benchmarks/edit_speed.py's JSON as stored by the editing stage, when the cost figure shows it."""
    return [LAYOUT.edit_speed()] if report_section().get("edit_speed", False) else []


def heatmap_fold():
    """The fold shown in the heat map; it must exist in every task."""
    fold = report_section().get("heatmap_fold", 0)
    n_folds = min(config["splits"][task]["n_folds"] for task in TASKS)
    if fold >= n_folds:
        from editlab.errors import ConfigError

        raise ConfigError(
            f"config key 'report.heatmap_fold': fold {fold} does not exist "
            f"(a task has only {n_folds} folds)"
        )
    return fold


def figure_files(stem):
    return LAYOUT.figure_files(stem)


def table_files(stem):
    return LAYOUT.figure_files(stem, ("md", "tex", "html"))


def results_targets():
    """Tables and the figures enabled in report.figures (DESIGN §11)."""
    figures = report_section().get(
        "figures", ["sme_curves", "patch_activations", "long_stream", "cost"]
    )
    targets = [LAYOUT.table("sme"), LAYOUT.table("cost")]
    targets += table_files("table_main") + table_files("table_cost")
    if "sme_curves" in figures:
        for task in TASKS:
            targets += figure_files(f"sme_curves_{task}")
    if "patch_activations" in figures and "tpatcher" in sme_methods():
        for task in TASKS:
            targets += figure_files(f"patch_activations_{task}")
    if "long_stream" in figures and long_stream_methods():
        targets += figure_files("long_stream")
    if "cost" in figures:
        targets += figure_files("cost_per_edit")
    return targets


# The config sections of one method each (sme.<method>): a fold job depends on its own section only.
SME_METHOD_SECTIONS = ("tpatcher", "ft", "ftkl")


def sme_settings(method):
    """The `sme` config a fold job of `method` depends on: the shared keys and its own hyperparameters only,
    so tuning one method (or listing another) reruns only that method's folds."""
    return {
        k: v
        for k, v in config["sme"].items()
        if k not in ("methods", "long_stream", *SME_METHOD_SECTIONS) or k == method
    }


def sme_inputs(wc):
    """Base model, data, the evaluation/memory splits, and the stream's fold file(s)."""
    n_folds = config["splits"][wc.task]["n_folds"]
    streams = (
        [f"fold{k}" for k in range(n_folds)] if wc.stream == "long" else [wc.stream]
    )
    return LAYOUT.stream_inputs(wc.task, streams)


def sme_targets():
    """Summaries of every SME stream: all folds x methods, plus the long streams when enabled."""
    sme = config.get("sme") or {}
    targets = []
    for task in TASKS:
        for method in sme.get("methods", []):
            targets += sme_fold_outputs(task, method, "summary.json")
        long_stream = sme.get("long_stream") or {}
        if long_stream.get("enabled"):
            targets += [
                LAYOUT.sme_file(task, method, "long", "summary.json")
                for method in long_stream.get("methods", ["tpatcher", "ft"])
            ]
    return targets


def sme_all_targets():
    """The SME half of the workflow (the `sme_all` target): base models, folds, streams, tables, figures."""
    targets = base_targets()
    for task in TASKS:
        targets += fold_files(task)
    targets += sme_targets()
    if "sme" in config:  # the editing stage that feeds the results stage is configured
        targets += results_targets()
    return targets


def all_targets():
    return sme_all_targets() + nmt_targets()


# --- NMT rank-one editing (DESIGN §8) ---
from editlab.nmt.hparams import model_tag as nmt_model_tag

NMT_TASK_RE = "hallucination|memorised|copy|mistranslation"


def nmt_candidate_files():
    """Task files as written by the data rule, before the behaviour probe."""
    return {
        f"{task}_{kind}": LAYOUT.nmt_candidate_file(task, kind)
        for task in config["nmt"]["tasks"]
        for kind in NMT_TASK_FILES
    }


def nmt_task_files(task):
    """Task files after the probe: only requests that really show the behaviour, with negatives."""
    return LAYOUT.nmt_task_files(task)


def nmt_corpus_files():
    return {
        k: LAYOUT.nmt_data(f)
        for k, f in (
            ("train", "train.jsonl"),
            ("test", "test.jsonl"),
            ("lexicon", "lexicon.json"),
        )
    }


def nmt_model_inputs(wildcards):
    return nmt_corpus_files() if config["nmt"]["source"] == "toy" else {}


def nmt_stats_file(task):
    locus = config["nmt"]["locus"][task]
    return LAYOUT.nmt_stats(nmt_model_tag(config["nmt"]), locus["side"], locus["layer"])


def nmt_edit_inputs(wildcards):
    inputs = {
        **nmt_task_files(wildcards.task),
        "model": LAYOUT.nmt_model(),
        "test": LAYOUT.nmt_data("test.jsonl"),
        "corpus": LAYOUT.nmt_data("train.jsonl"),
    }
    if wildcards.method in NMT_RANK_ONE_METHODS:
        inputs["stats"] = nmt_stats_file(wildcards.task)
    return inputs


def nmt_params(*keys):
    """The nmt config keys a job reads, passed as params so that changing them reruns exactly those jobs."""
    return {k: config["nmt"][k] for k in keys if k in config["nmt"]}


def nmt_edit_params(wildcards):
    nmt = config["nmt"]
    section = {"ft": "ft", "tpatcher": "tpatcher"}.get(wildcards.method, "rome")
    return {
        "locus": {wildcards.task: nmt["locus"][wildcards.task]},
        section: nmt.get(section, {}),
        "eval": nmt["eval"],
    }


def nmt_summary_files():
    return [
        LAYOUT.nmt_edit_file(task, method, f"{kind}.json")
        for task in config["nmt"]["tasks"]
        for method in config["nmt"]["methods"]
        for kind in ("summary", "sequential")
    ]


def nmt_targets():
    if "nmt" not in config:
        return []
    return (
        [
            LAYOUT.table("nmt"),
            *LAYOUT.figure_files("nmt_table", ("md", "tex")),
            *LAYOUT.figure_files("nmt_metrics"),
            LAYOUT.nmt("model_metrics.json"),
        ]
        + [LAYOUT.nmt_presence(task) for task in config["nmt"]["tasks"]]
        + [
            LAYOUT.nmt_edit_file(task, method, "patch/patches.json")
            for task in config["nmt"]["tasks"]
            for method in config["nmt"]["methods"]
            if method in NMT_RANK_ONE_METHODS
        ]
    )
