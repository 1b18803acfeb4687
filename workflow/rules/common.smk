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


def all_targets():
    targets = base_targets()
    for task in TASKS:
        targets += fold_files(task)
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
        return {k: f"{NMT}/data/{f}" for k, f in
                (("train", "train.jsonl"), ("test", "test.jsonl"), ("lexicon", "lexicon.json"))}
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
    section = "ft" if wildcards.method == "ft" else "rome"
    return {"locus": {wildcards.task: nmt["locus"][wildcards.task]}, section: nmt[section], "eval": nmt["eval"]}


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
    return [
        f"{RESULTS}/tables/nmt.csv",
        f"{FIGURES}/nmt_table.md",
        f"{FIGURES}/nmt_table.tex",
        f"{FIGURES}/nmt_metrics.pdf",
        f"{FIGURES}/nmt_metrics.png",
        f"{NMT}/model_metrics.json",
    ] + [f"{NMT}/tasks/{task}/presence.json" for task in config["nmt"]["tasks"]]
