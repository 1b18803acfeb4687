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


SME_CODE = library("sme/runner.py", "sme/paths.py", "sme/metrics.py", "sme/state.py", "editors/__init__.py",
                   "editors/base.py", "editors/site.py", "editors/patch.py", "editors/losses.py",
                   "editors/task_ops.py", "editors/tpatcher.py", "editors/ft.py", "editors/ftkl.py",
                   "models/build.py", "tasks/fever.py", "tasks/zsre.py")


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
        "code": SME_CODE,
    }


def sme_targets():
    """Summaries of every SME stream: all folds x methods, plus the long streams when enabled."""
    sme = config.get("sme") or {}
    targets = []
    for task in TASKS:
        for method in sme.get("methods", []):
            targets += [f"{RESULTS}/sme/{task}/{method}/fold{k}/summary.json"
                        for k in range(config["splits"][task]["n_folds"])]
        long_stream = sme.get("long_stream") or {}
        if long_stream.get("enabled"):
            targets += [f"{RESULTS}/sme/{task}/{method}/long/summary.json"
                        for method in long_stream.get("methods", ["tpatcher", "ft"])]
    return targets


def all_targets():
    targets = base_targets()
    for task in TASKS:
        targets += fold_files(task)
    return targets + sme_targets()
