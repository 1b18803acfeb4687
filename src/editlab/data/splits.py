"""Seeded splits of docs/design.md §4, persisted as id lists, with disjointness checked.

train file -> shuffle -> train / val / edit by fractions; test = the dev file. TrainR = the first
`trainr_size` ids of the (shuffled) train split, memory = the next `memory_size`; both disjoint.
Edit candidates need a non-empty equivalence set (switch), zsRE keeps single-answer examples (switch).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.errors import ConfigError, DataFormatError
from editlab.io import write_ids


@dataclass(frozen=True)
class SplitConfig:
    """config section splits.<task>."""

    train: float = param(exclusiveMinimum=0, maximum=1)
    val: float = param(minimum=0, maximum=1)
    edit: float = param(exclusiveMinimum=0, maximum=1)
    trainr_size: int = param(minimum=1)
    memory_size: int = param(minimum=0)
    n_folds: int = param(minimum=1)
    single_answer: bool = param(False, "keep only examples with exactly one answer (zsRE reference)")
    edit_needs_rephrases: bool = param(True, "drop edit candidates whose rephrases are empty")

    @classmethod
    def from_config(cls, section: Mapping[str, Any], where: str = "splits.<task>") -> SplitConfig:
        cfg = from_section(cls, section, where)
        if abs(cfg.train + cfg.val + cfg.edit - 1.0) > 1e-6:
            raise ConfigError(f"config key 'splits': train + val + edit = {cfg.train + cfg.val + cfg.edit}, must be 1")
        return cfg


@dataclass(frozen=True)
class Splits:
    train: list[str]
    val: list[str]
    edit: list[str]
    test: list[str]
    trainr: list[str]
    memory: list[str]

    @staticmethod
    def names() -> tuple[str, ...]:
        return ("train", "val", "edit", "test", "trainr", "memory")

    def check(self) -> None:
        """The parts of the train file are pairwise disjoint; TrainR and memory lie inside train."""
        parts = {"train": set(self.train), "val": set(self.val), "edit": set(self.edit)}
        for a in parts:
            for b in parts:
                if a < b and parts[a] & parts[b]:
                    raise AssertionError(f"splits {a} and {b} overlap")
        if not set(self.trainr) <= parts["train"] or not set(self.memory) <= parts["train"]:
            raise AssertionError("TrainR/memory must be subsets of train")
        if set(self.trainr) & set(self.memory):
            raise AssertionError("TrainR and memory overlap")


def make_splits(train: list[Example], dev: list[Example], cfg: SplitConfig, seed: int) -> Splits:
    keep = (lambda ex: len(ex.answers) == 1) if cfg.single_answer else (lambda ex: True)
    pool = [ex for ex in train if keep(ex)]
    order = [ex.id for ex in pool]
    random.Random(seed).shuffle(order)
    n_train = int(len(order) * cfg.train)
    n_val = int(len(order) * cfg.val)
    train_ids, val_ids, edit_ids = order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]
    if cfg.edit_needs_rephrases:
        by_id = {ex.id: ex for ex in pool}
        # the reference keeps every edit with rephrases, the input among them or not (zsre_dataloader.py:58)
        edit_ids = [i for i in edit_ids if by_id[i].rephrases]
    if cfg.trainr_size + cfg.memory_size > len(train_ids):
        raise ConfigError(f"config key 'splits': trainr_size + memory_size = {cfg.trainr_size + cfg.memory_size} "
                          f"exceeds the {len(train_ids)} train examples")
    if len(edit_ids) < cfg.n_folds:
        dropped = len(order) - n_train - n_val - len(edit_ids)
        why = (f" ({dropped} edit examples dropped for having no rephrases, and edit_needs_rephrases is true)"
               if dropped else "")
        raise ConfigError(f"config key 'splits': {len(edit_ids)} edit examples cannot make {cfg.n_folds} folds{why}")
    test_ids = [ex.id for ex in dev if keep(ex)]
    splits = Splits(train=train_ids, val=val_ids, edit=edit_ids, test=test_ids,
                    trainr=train_ids[:cfg.trainr_size],
                    memory=train_ids[cfg.trainr_size:cfg.trainr_size + cfg.memory_size])
    splits.check()
    return splits


def write_splits(splits: Splits, paths: Mapping[str, str | Path]) -> None:
    for name in splits.names():
        write_ids(paths[name], getattr(splits, name))


def fold_ids(edit_ids: list[str], n_folds: int, k: int, seed: int) -> list[str]:
    """Fold k of the edit set, in its seeded visiting order (folds are disjoint and cover the edit set)."""
    if not 0 <= k < n_folds:
        raise ConfigError(f"fold {k} does not exist: splits.n_folds is {n_folds}")
    order = list(edit_ids)
    random.Random(seed + 7919).shuffle(order)
    size, rest = divmod(len(order), n_folds)
    start = k * size + min(k, rest)
    return order[start:start + size + (1 if k < rest else 0)]


def check_equivalents(examples: Sequence[Example], source: str, data_file: str) -> None:
    """Edit examples must have a non-empty equivalence set, or GR would silently average fewer edits."""
    for ex in examples:
        if not ex.equivalents:
            raise DataFormatError(source, f"edit example {ex.id!r} has an empty equivalence set in {data_file} "
                                          "(rephrases missing or only repeating the input) while "
                                          "splits.<task>.edit_needs_rephrases is true")
