"""The base-model stage end to end: read splits, build, train, evaluate, save atomically."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from editlab.data.readers import read_task_file, select
from editlab.hub import model_record, write_record
from editlab.io import atomic_dir, clean_leftovers, read_ids, write_json
from editlab.models.build import new_base_model, save_base_model
from editlab.models.train import TrainConfig, evaluate, train_base
from editlab.provenance import provenance
from editlab.runtime import configure_torch

log = logging.getLogger(__name__)


def train_and_save(task: str, config: Mapping[str, Any], files: Mapping[str, str], model_dir: str | Path,
                   metrics_path: str | Path, threads: int = 1) -> dict[str, Any]:
    device = configure_torch(config, threads)
    for leftover in clean_leftovers(model_dir):   # a model save killed in an earlier run of this job
        log.info("removed %s, left by a killed model save", leftover)
    train_file = read_task_file(task, files["train_data"])
    dev_file = read_task_file(task, files["dev_data"])
    parts = {name: select(train_file if name != "test" else dev_file, read_ids(files[name]), source=files[name])
             for name in ("train", "val", "trainr", "test")}
    corpus = [t for ex in train_file + dev_file for t in (ex.input, *ex.rephrases, *ex.answers)]
    base_cfg = config["base"][task]
    model, tokenizer = new_base_model(task, base_cfg["model"], corpus)
    model_cfg = base_cfg["model"]
    hub = model_record(model, model_cfg["hub_id"], model_cfg.get("revision")) if model_cfg["source"] == "hub" else None
    if hub is not None:
        log.info("%s: hub checkpoint %s, revision %s, commit %s", task, hub["repo_id"], hub["revision"] or "latest",
                 hub["commit"])
    model.to(device)
    cfg = TrainConfig.from_config(base_cfg["train"])
    log.info("%s: %d train / %d val examples, %d parameters, device %s", task, len(parts["train"]),
             len(parts["val"]), sum(p.numel() for p in model.parameters()), device)
    info = train_base(task, model, tokenizer, parts["train"], parts["val"], cfg, seed=int(config["seed"]))
    metrics = {
        "val_acc": evaluate(task, model, tokenizer, parts["val"], cfg),
        "test_acc": evaluate(task, model, tokenizer, parts["test"], cfg),
        "train_subset_acc": evaluate(task, model, tokenizer, parts["trainr"], cfg),
        "n_train": len(parts["train"]), "n_val": len(parts["val"]), "n_test": len(parts["test"]),
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "device": str(device), **info,
        "provenance": provenance(config, device=str(device),
                                 data_files={k: files[k] for k in ("train_data", "dev_data")}, models={"base": hub}),
    }
    with atomic_dir(model_dir) as tmp:
        save_base_model(model.cpu(), tokenizer, tmp)
        if hub is not None:   # the fine-tuned model's checkpoint, for the editing stages' provenance
            write_record(tmp, hub)
    write_json(metrics_path, metrics)
    log.info("%s metrics: val %.4f test %.4f trainR %.4f", task, metrics["val_acc"], metrics["test_acc"],
             metrics["train_subset_acc"])
    return metrics
