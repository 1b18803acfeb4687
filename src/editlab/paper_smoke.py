"""Inputs of the paper-shaped smoke run (config/paper_smoke*.yaml): `python -m editlab.paper_smoke [DIR]`.

The paper profile with only sizes changed needs what it would download, at toy size and offline:
- DIR/data.zip: FEVER and zsRE in the Cao/MEND release format under the release file names (as the
  authors' data.zip nests them, in a folder), for `data.source: cao`;
- DIR/kilt/*.jsonl: the same facts as KILT originals (no rephrases; zsRE `input` is "subject [SEP]
  relation" with the question in `meta.template_questions`), for `data.source: kilt`;
- DIR/hub/{bert-base-uncased,bart-base}: tiny BERT (one-logit classifier) / BART checkpoints built from
  configs, randomly initialised and given a few quick training steps on the fixture facts (dropout 0.1
  as both hub models have), with word-level tokenizers of the fixture corpus that load with AutoTokenizer;
- DIR/hub/{opus-mt-en-de,opus-mt-de-en}: tiny random Marian "translators" (biased to stop after a few
  tokens) for the back-translation.
The profiles name these as local directories through the paper's own `source: hub` / hub-id keys. The
facts come from the mini world generator (editlab.data.mini_world), so the files are the real formats.
Deterministic for a seed; written atomically (a half-built DIR is never left behind). No network.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_DIR = "data/paper_smoke"
# Fixture sizes: with the paper's split fractions (FEVER edit 0.1, zsRE edit 0.025) these give 8 FEVER and
# 7 zsRE edit candidates, a handful per fold for 2 folds; dev files are the test sets.
SIZES = {"fever": {"n_train": 80, "n_dev": 24}, "zsre": {"n_train": 280, "n_dev": 24}}
WORLD = {"n_regions": 3, "n_people_per_region": 30, "n_cities_per_region": 3, "n_orgs": 8, "p_regular": 0.8}
KILT_NAMES = {"fever_train": "fever-train-kilt.jsonl", "fever_dev": "fever-dev-kilt.jsonl",
              "zsre_train": "structured_zeroshot-train-kilt.jsonl", "zsre_dev": "structured_zeroshot-dev-kilt.jsonl"}
HUB_DIRS = {"bert": "bert-base-uncased", "bart": "bart-base", "en_de": "opus-mt-en-de", "de_en": "opus-mt-de-en"}
EOS_BIAS = 6.0   # logit bias of </s> in the tiny translators: p(</s>) about 0.45 a step over their ~500 words
ZIP_FOLDER = "data"   # data.zip nests the release files in a folder; the ingest finds them at any depth
# The keys a smoke profile may change in config/paper.yaml (fnmatch patterns over dotted keys;
# tests/test_paper_smoke.py compares the resolved profiles key by key): sizes of the data and the streams,
# step budgets, threads, the figures' resolution, and where the inputs are. Never a rate, coefficient,
# schedule, threshold or method switch.
SIZE_KEYS = (
    "name",                                      # the results directory
    "threads", "sme.threads",                    # execution resources
    "data.cao.path", "data.cao.archive_sha256", "data.cao.sha256.*",        # the Cao archive and its hashes
    "data.kilt.files.*.url", "data.kilt.files.*.sha256",                     # the KILT files and their hashes
    "data.backtranslate.forward_model", "data.backtranslate.backward_model",  # the translators (by path)
    "base.*.model.hub_id",                       # the checkpoints (a local directory)
    "splits.*.trainr_size", "splits.*.memory_size", "splits.*.n_folds",
    "sme.tpatcher.max_steps", "sme.ft.max_steps", "sme.ftkl.max_steps",     # step budgets per edit
    "report.dpi",
)
# The documented alternatives of the paper profile a smoke profile may also switch to, so that the smoke runs
# together cover both: the KILT data route (no data.zip) and the cached execution path (the fast option),
# with the FT tuning that path requires (the paper's tune: layer is refused on the cached path).
SWITCH_KEYS = {"data.source": "kilt", "sme.path": "cached", "sme.ft.tune": "ffn", "sme.ftkl.tune": "ffn"}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _relation_of(question: str, subject: str) -> str:
    """The mini-world relation whose question template produced `question` (the KILT input names it)."""
    from editlab.data.mini_world import QA_TEMPLATES

    for relation, templates in QA_TEMPLATES.items():
        if question in (t.format(s=subject) for t in templates):
            return relation
    raise ValueError(f"no template of the mini world gives {question!r}")


def kilt_record(task: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The KILT original of a Cao-format record: no rephrases (nor the Cao model fields); a zsRE record's
    input is "subject [SEP] relation" and its question goes to meta.template_questions, as in KILT."""
    out: dict[str, Any] = {"id": record["id"], "input": record["input"], "output": record["output"]}
    if task == "zsre":
        subject = record["output"][0]["provenance"][0]["title"]
        out["input"] = f"{subject} [SEP] {_relation_of(record['input'], subject)}"
        out["meta"] = {"template_questions": list(record["meta"]["template_questions"])}
    return out


def write_data(out: Path, seed: int) -> None:
    """out/data.zip (Cao format) and out/kilt/*.jsonl (KILT format) of one mini world."""
    from editlab.data.mini_world import WorldConfig, write_mini_dataset
    from editlab.layout import CAO_FILES

    cfg = WorldConfig(seed=seed, **WORLD, fever_n_train=SIZES["fever"]["n_train"],
                      fever_n_dev=SIZES["fever"]["n_dev"], zsre_n_train=SIZES["zsre"]["n_train"],
                      zsre_n_dev=SIZES["zsre"]["n_dev"])
    cao = out / "cao"
    cao.mkdir()
    write_mini_dataset(cfg, world=cao / "world.json",
                       **{key: cao / name for key, (_, name) in CAO_FILES.items()})
    with zipfile.ZipFile(out / "data.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for _, name in CAO_FILES.values():
            archive.write(cao / name, f"{ZIP_FOLDER}/{name}")
    kilt = out / "kilt"
    kilt.mkdir()
    for key, (task, name) in CAO_FILES.items():
        rows = [kilt_record(task, r) for r in _read_jsonl(cao / name)]
        (kilt / KILT_NAMES[key]).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shutil.rmtree(cao)


def corpus(out: Path) -> list[str]:
    """Every text of the fixture files (the tokenizers' vocabulary; KILT zsRE inputs included)."""
    texts = []
    for name in KILT_NAMES.values():
        for row in _read_jsonl(out / "kilt" / name):
            texts.append(row["input"])
            texts += row.get("meta", {}).get("template_questions", [])
            texts += [o["answer"] for o in row["output"]]
    from editlab.data.mini_world import CLAIM_TEMPLATES, QA_TEMPLATES

    # every template, so the Cao files' rephrases tokenize too
    texts += [t for group in (*QA_TEMPLATES.values(), *CLAIM_TEMPLATES.values()) for t in group]
    return texts


def _train_pairs(out: Path, task: str) -> list[tuple[str, Any]]:
    """(input, label) of the first half of the fixture's train file (FEVER 1.0 = SUPPORTS, zsRE the answer):
    the quick pretraining sees only half, so the workflow's edit split (drawn from the whole file) holds
    facts the model has not seen, and it errs on some of them."""
    rows = _read_jsonl(out / "kilt" / KILT_NAMES[f"{task}_train"])
    rows = rows[:len(rows) // 2]
    if task == "fever":
        return [(r["input"], float(r["output"][0]["answer"] == "SUPPORTS")) for r in rows]
    return [(r["meta"]["template_questions"][0], r["output"][0]["answer"]) for r in rows]


def _pretrain_classifier(model: Any, tokenizer: Any, pairs: Sequence[tuple[str, float]], steps: int,
                         seed: int) -> None:
    """A few AdamW steps on the one-logit head's loss (SUPPORTS iff logit > 0, as the FEVER task reads it)."""
    import random

    import torch

    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(steps):
        batch = rng.sample(list(pairs), min(16, len(pairs)))
        enc = tokenizer([x for x, _ in batch], padding=True, return_tensors="pt")
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[:, 0]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([y for _, y in batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def write_models(out: Path, texts: Sequence[str], seed: int, steps: int) -> None:
    """Tiny checkpoints with save_pretrained, in the shapes the paper profile loads from the hub. Random
    configs, then `steps` quick steps on the fixture's train facts (the hub models come pretrained; a
    random model with the paper's small base learning rate would answer one constant, and the smoke run
    would see neither a right answer to retain nor an edit that succeeds). Dropout 0.1 as in both hub models."""
    import torch
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BertConfig,
        BertForSequenceClassification,
        MarianConfig,
        MarianMTModel,
    )

    from editlab.models.tokenizer import train_bart_tokenizer, train_bert_tokenizer
    from editlab.tiny_models import eos_tokenizer, train

    hub = out / "hub"
    torch.manual_seed(seed)
    tok = train_bert_tokenizer(texts)
    bert = BertForSequenceClassification(BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=0,
        num_labels=1))
    _pretrain_classifier(bert, tok, _train_pairs(out, "fever"), steps, seed)
    bert.save_pretrained(hub / HUB_DIRS["bert"])
    tok.save_pretrained(hub / HUB_DIRS["bert"])
    tok = train_bart_tokenizer(texts)
    # scaled embeddings and a larger init: with BART's defaults a model this small stays at a constant answer
    bart = BartForConditionalGeneration(BartConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        dropout=0.1, attention_dropout=0.1, activation_dropout=0.1, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0, forced_eos_token_id=2,
        scale_embedding=True, init_std=0.1))
    train(bart, tok, _train_pairs(out, "zsre"), steps, seed, lr=3e-3)
    bart.save_pretrained(hub / HUB_DIRS["bart"])
    tok.save_pretrained(hub / HUB_DIRS["bart"])
    # The translators: random, with small weights and a bias towards </s>, so that every beam ends after a few
    # tokens (a random Marian rambles to the paper's max_length 128 and the back-translation of the fixture
    # took minutes); 512 positions as opus-mt has. The rephrases are short junk, which is all the route needs.
    for i, key in enumerate(("en_de", "de_en")):
        tok = eos_tokenizer(texts)
        torch.manual_seed(seed + i)
        marian = MarianMTModel(MarianConfig(
            vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=512,
            dropout=0.1, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1,
            init_std=0.02))
        with torch.no_grad():
            marian.final_logits_bias[0, tok.eos_token_id] = EOS_BIAS
        marian.save_pretrained(hub / HUB_DIRS[key])
        tok.save_pretrained(hub / HUB_DIRS[key])


def make_paper_smoke(out_dir: str | Path = DEFAULT_DIR, seed: int = 0, steps: int = 200) -> Path:
    """Write all inputs of the smoke profiles to `out_dir` (replaced atomically)."""
    from editlab.io import atomic_dir

    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        tmp = Path(tmp)
        write_data(tmp, seed)
        write_models(tmp, corpus(tmp), seed, steps)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=DEFAULT_DIR,
                        help=f"where the smoke profiles look (default {DEFAULT_DIR}, relative to the workflow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=200, help="quick training steps of the BERT and BART")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)   # tiny models: threads cost more than they give
    make_paper_smoke(args.out_dir, args.seed, args.steps)
    print(f"wrote the paper smoke data (Cao zip, KILT files) and tiny hub-shaped checkpoints to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
