"""Entry points of the NMT workflow stages (each workflow script calls exactly one of these)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch

from editlab.editors import factory
from editlab.hub import read_record
from editlab.io import atomic_dir, read_json, write_json, write_jsonl
from editlab.nmt import toy_language as toy
from editlab.nmt.experiment import run_task
from editlab.nmt.hparams import model_tag
from editlab.nmt.methods import NmtContext
from editlab.nmt.metrics import bleu, chrf, exact_rate
from editlab.nmt.model import (
    MarianArch,
    TrainConfig,
    build_marian,
    download_hub_model,
    load_model,
    save_model,
    train_model,
    translate,
)
from editlab.nmt.probe import probe_task
from editlab.nmt.tasks import read_parallel, read_task, write_task
from editlab.nmt.tokenizer import WordTokenizer, pair_ids
from editlab.nmt.toy_data import write_toy
from editlab.provenance import provenance
from editlab.rome.locate import locate_ffn_output
from editlab.rome.stats import save_second_moment, second_moment

log = logging.getLogger("editlab.nmt")
Paths = Mapping[str, str]


def make_toy_data(nmt: Mapping[str, Any], seed: int, train: str, test: str, lexicon: str,
                  task_files: Mapping[str, Paths]) -> None:
    write_toy(toy.ToyConfig.from_config(nmt.get("toy")), seed, train, test, lexicon, task_files)


def make_model(nmt: Mapping[str, Any], seed: int, train: str | None, lexicon: str | None, model_dir: str,
               device: str = "cpu") -> None:
    """Toy: train a tiny Marian from scratch (loss history kept in the model directory). Hub: download."""
    with atomic_dir(model_dir) as tmp:
        if nmt["source"] == "toy":
            assert train is not None and lexicon is not None  # the rule provides them for toy
            pairs = read_parallel(train)
            lex = read_json(lexicon)
            tok = WordTokenizer.build([s for s, _ in pairs] + [t for _, t in pairs] + list(lex.values())
                                      + [w for w in lex if not w.startswith("<")])
            torch.manual_seed(seed)
            # absent sections take the dataclass defaults
            model_cfg = nmt.get("model") or {}
            model = build_marian(MarianArch.from_config(model_cfg.get("arch")), len(tok))
            history = train_model(model, tok, pairs, TrainConfig.from_config(model_cfg.get("train")), seed, device)
            save_model(model, tok, tmp)
            write_json(os.path.join(tmp, "train_history.json"), {"loss_per_epoch": history})
        else:
            download_hub_model(nmt["hub_id"], tmp, nmt.get("revision"))


def score_model(nmt: Mapping[str, Any], model_dir: str, test: str, metrics: str, device: str = "cpu") -> None:
    """BLEU / chrF / exact match of the unedited model on the held-out test set."""
    model, tok = load_model(model_dir, device)
    history_path = os.path.join(model_dir, "train_history.json")
    history = read_json(history_path)["loss_per_epoch"] if os.path.exists(history_path) else []
    pairs = read_parallel(test)
    out = translate(model, tok, [s for s, _ in pairs], max_new_tokens=nmt["eval"]["max_new_tokens"], device=device)
    refs = [t for _, t in pairs]
    write_json(metrics, {"bleu": bleu(out, refs), "chrf": chrf(out, refs), "exact_match": exact_rate(out, refs),
                         "n_test": len(pairs), "train_loss_per_epoch": list(history)})


def probe(nmt: Mapping[str, Any], task: str, model_dir: str, candidates: Paths, final: Paths, presence: str,
          device: str = "cpu") -> None:
    model, tok = load_model(model_dir, device)
    cand = read_task(task, candidates["requests"], candidates["generalization"], candidates["specificity"])
    kept, report = probe_task(model, tok, cand, float(nmt["min_presence"]), device, nmt["eval"]["max_new_tokens"])
    write_task(kept, final["requests"], final["generalization"], final["specificity"])
    write_json(presence, report)


def compute_stats(nmt: Mapping[str, Any], model_dir: str, corpus: str, side: str, layer: int, out: str,
                  device: str = "cpu") -> None:
    """C for one locus from the first nmt.stats.n_samples pairs of the corpus (targets feed the decoder)."""
    model, tok = load_model(model_dir, device)
    pairs = read_parallel(corpus)[: int(nmt["stats"]["n_samples"])]
    ids = [pair_ids(tok, s, t) for s, t in pairs]
    locus = locate_ffn_output(model, side, layer)  # type: ignore[arg-type]
    stats = second_moment(model, locus, ids, tok.specials, batch_size=int(nmt["stats"]["batch_size"]),
                          model_id=model_tag(nmt), device=device)
    log.info("C for %s from %d keys", locus.name, stats.count)
    save_second_moment(out, stats)


def run_method(nmt: Mapping[str, Any], seed: int, task: str, method: str, model_dir: str, task_files: Paths,
               test: str, corpus: str, stats_dir: str, summary: str, sequential: str, edits: str,
               device: str = "cpu", config: Mapping[str, Any] | None = None, patch_dir: str | None = None) -> None:
    """`config`: the whole workflow config, recorded as provenance in both summaries when given.
    `patch_dir` (rome, r-rome): where the sequential stream's rank-one factors are written as a patch file.
    The method comes from the editor registry (editlab.editors.REGISTRY["nmt"])."""
    make = factory("nmt", method)
    model, tok = load_model(model_dir, device)
    data = read_task(task, task_files["requests"], task_files["generalization"], task_files["specificity"])
    test_pairs = read_parallel(test)
    hooks = make(NmtContext(nmt=nmt, seed=seed, method=method, model=model, tok=tok, data=data, model_dir=model_dir,
                            corpus=corpus, stats_dir=stats_dir, patch_dir=patch_dir, device=device))
    with hooks.active():
        single, seq, rows = run_task(model, tok, data, test_pairs, hooks.apply, method, device,
                                     nmt["eval"]["max_new_tokens"], undo=hooks.undo, after_stream=hooks.after_stream)
    if config is not None:
        for result in (single, seq):
            result["provenance"] = provenance(config, device=str(device), protocol=result["protocol"],
                                              data_files={"test": test, "corpus": corpus, **task_files},
                                              models={"nmt": read_record(model_dir)})
    write_jsonl(edits, rows)
    write_json(sequential, seq)
    write_json(summary, single)
