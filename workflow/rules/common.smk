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
    return targets
