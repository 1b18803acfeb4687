# Shared paths and input functions. Every output lives under results/{name}/ (DESIGN §11).

NAME = config["name"]
RESULTS = f"results/{NAME}"
FIGURES = f"figures/{NAME}"
LOGS = f"logs/{NAME}"
BENCH = f"benchmarks/out/{NAME}"
TASKS = ["fever", "zsre"]
SCRIPTS = "workflow/scripts"


def library(*modules):
    """Library source files a rule depends on, so editing them reruns exactly that rule."""
    return [f"src/editlab/{m}" for m in modules]


def data_files(task):
    """The Cao-format train/dev files of a task (keys train_data, dev_data), whatever the source (mini, cao, kilt)."""
    if task == "fever":
        return {
            "train_data": f"{RESULTS}/data/fever/fever-train-kilt.jsonl",
            "dev_data": f"{RESULTS}/data/fever/fever-dev-kilt.jsonl",
        }
    return {
        "train_data": f"{RESULTS}/data/zsre/structured_zeroshot-train-new_annotated_final.jsonl",
        "dev_data": f"{RESULTS}/data/zsre/structured_zeroshot-dev-new_annotated_final.jsonl",
    }


SPLIT_NAMES = ["train", "val", "edit", "test", "trainr", "memory"]


def split_files(task):
    return {s: f"{RESULTS}/splits/{task}/{s}.txt" for s in SPLIT_NAMES}


def fold_files(task):
    return [
        f"{RESULTS}/splits/{task}/fold{k}.txt"
        for k in range(config["splits"][task]["n_folds"])
    ]


def base_targets():
    return [f"{RESULTS}/base/{task}/metrics.json" for task in TASKS]


# Results stage (aggregate.smk, figures.smk). The sme section lands with the editing stage, hence .get.
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
        f"{RESULTS}/sme/{task}/{method}/fold{k}/{filename}"
        for k in range(config["splits"][task]["n_folds"])
    ]


def sme_fold_benchmarks(task, method):
    return [
        f"{BENCH}/sme/{task}/{method}/fold{k}.tsv"
        for k in range(config["splits"][task]["n_folds"])
    ]


def sme_method_tables(kind):
    return [
        f"{RESULTS}/tables/{kind}/{task}/{method}.csv"
        for task in TASKS
        for method in sme_methods()
    ]


def edit_speed_files():
    """benchmarks/edit_speed.py's JSON as stored by the editing stage, when the cost figure shows it."""
    return (
        [f"{RESULTS}/benchmarks/edit_speed.json"]
        if report_section().get("edit_speed", False)
        else []
    )


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
    return [f"{FIGURES}/{stem}.pdf", f"{FIGURES}/{stem}.png"]


def table_files(stem):
    return [f"{FIGURES}/{stem}.{ext}" for ext in ("md", "tex", "html")]


def results_targets():
    """Tables and the figures enabled in report.figures (DESIGN §11)."""
    figures = report_section().get(
        "figures", ["sme_curves", "patch_activations", "long_stream", "cost"]
    )
    targets = [f"{RESULTS}/tables/sme.csv", f"{RESULTS}/tables/cost.csv"]
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


SME_CODE = library(
    "sme/runner.py",
    "sme/paths.py",
    "sme/metrics.py",
    "sme/state.py",
    "editors/__init__.py",
    "editors/base.py",
    "editors/site.py",
    "editors/patch.py",
    "editors/task_ops.py",
    "models/build.py",
    "tasks/fever.py",
    "tasks/zsre.py",
    "data/splits.py",
    "sme/resume.py",
    "provenance.py",
)
# The editor modules each method runs (on top of SME_CODE), so editing one editor reruns only its folds.
EDITOR_CODE = {
    "tpatcher": library(
        "editors/tpatcher.py", "editors/losses.py", "patchfile.py"
    ),  # + patch export
    "ft": library("editors/ft.py"),
    "ftkl": library("editors/ft.py", "editors/ftkl.py"),
}


def sme_settings(method):
    """The `sme` config a fold job of `method` depends on: the shared keys and its own hyperparameters only,
    so tuning one method (or listing another) reruns only that method's folds."""
    return {
        k: v
        for k, v in config["sme"].items()
        if k not in ("methods", "long_stream", *EDITOR_CODE) or k == method
    }


def sme_inputs(wc):
    """Base model, data, the evaluation/memory splits, and the stream's fold file(s)."""
    splits = split_files(wc.task)
    if wc.stream == "long":
        folds = fold_files(wc.task)
    else:
        folds = [f"{RESULTS}/splits/{wc.task}/{wc.stream}.txt"]
    return {
        "base_model": f"{RESULTS}/base/{wc.task}/model",
        **data_files(wc.task),
        **{name: splits[name] for name in ("trainr", "test", "memory", "val")},
        "folds": folds,
        "code": SME_CODE + EDITOR_CODE[getattr(wc, "method", "tpatcher")],
    }


def sme_targets():
    """Summaries of every SME stream: all folds x methods, plus the long streams when enabled."""
    sme = config.get("sme") or {}
    targets = []
    for task in TASKS:
        for method in sme.get("methods", []):
            targets += [
                f"{RESULTS}/sme/{task}/{method}/fold{k}/summary.json"
                for k in range(config["splits"][task]["n_folds"])
            ]
        long_stream = sme.get("long_stream") or {}
        if long_stream.get("enabled"):
            targets += [
                f"{RESULTS}/sme/{task}/{method}/long/summary.json"
                for method in long_stream.get("methods", ["tpatcher", "ft"])
            ]
    return targets


def all_targets():
    targets = base_targets()
    for task in TASKS:
        targets += fold_files(task)
    targets += sme_targets()
    if "sme" in config:  # the editing stage that feeds the results stage is configured
        targets += results_targets()
    targets += nmt_targets()
    return targets


# --- NMT rank-one editing (DESIGN §8) ---
from editlab.nmt.hparams import model_tag as nmt_model_tag

NMT = f"{RESULTS}/nmt"
NMT_TASK_FILES = ["requests", "generalization", "specificity"]
NMT_TASK_RE = "hallucination|memorised|copy|mistranslation"


def nmt_candidate_files():
    """Task files as written by the data rule, before the behaviour probe."""
    return {
        f"{task}_{kind}": f"{NMT}/data/candidates/{task}/{kind}.jsonl"
        for task in config["nmt"]["tasks"]
        for kind in NMT_TASK_FILES
    }


def nmt_task_files(task):
    """Task files after the probe: only requests that really show the behaviour, with negatives."""
    return {kind: f"{NMT}/tasks/{task}/{kind}.jsonl" for kind in NMT_TASK_FILES}


def nmt_model_inputs(wildcards):
    if config["nmt"]["source"] == "toy":
        return {
            k: f"{NMT}/data/{f}"
            for k, f in (
                ("train", "train.jsonl"),
                ("test", "test.jsonl"),
                ("lexicon", "lexicon.json"),
            )
        }
    return {}


def nmt_stats_file(task):
    locus = config["nmt"]["locus"][task]
    return f"{NMT}/stats/{nmt_model_tag(config['nmt'])}/{locus['side']}_layer{locus['layer']}.safetensors"


def nmt_edit_inputs(wildcards):
    inputs = {
        **nmt_task_files(wildcards.task),
        "model": f"{NMT}/model",
        "test": f"{NMT}/data/test.jsonl",
        "corpus": f"{NMT}/data/train.jsonl",
    }
    if wildcards.method in ("rome", "r-rome"):
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
        f"{NMT}/{task}/{method}/{kind}.json"
        for task in config["nmt"]["tasks"]
        for method in config["nmt"]["methods"]
        for kind in ("summary", "sequential")
    ]


def nmt_targets():
    if "nmt" not in config:
        return []
    return (
        [
            f"{RESULTS}/tables/nmt.csv",
            f"{FIGURES}/nmt_table.md",
            f"{FIGURES}/nmt_table.tex",
            f"{FIGURES}/nmt_metrics.pdf",
            f"{FIGURES}/nmt_metrics.png",
            f"{NMT}/model_metrics.json",
        ]
        + [f"{NMT}/tasks/{task}/presence.json" for task in config["nmt"]["tasks"]]
        + [
            f"{NMT}/{task}/{method}/patch/patches.json"
            for task in config["nmt"]["tasks"]
            for method in config["nmt"]["methods"]
            if method in ("rome", "r-rome")
        ]
    )
