"""Seeded splits and folds (DESIGN §4)."""

from __future__ import annotations

import pytest

from editlab.data.records import Example
from editlab.data.splits import SplitConfig, fold_ids, make_splits
from editlab.errors import ConfigError


def examples(n: int, prefix: str = "t", multi_every: int = 0) -> list[Example]:
    out = []
    for i in range(n):
        answers = ("a", "b") if multi_every and i % multi_every == 0 else ("a",)
        rephrases = () if i % 10 == 3 else (f"q{i}?", f"r{i}?")
        out.append(Example(f"{prefix}{i}", f"q{i}?", answers, rephrases))
    return out


CFG = SplitConfig(train=0.8, val=0.1, edit=0.1, trainr_size=100, memory_size=300, n_folds=4)


def test_fractions_disjointness_and_subsets():
    data = examples(1000)
    s = make_splits(data, examples(50, "d"), CFG, seed=0)
    assert (len(s.train), len(s.val)) == (800, 100)
    # the 100 edit candidates lose exactly those without an equivalence set
    candidates = {ex.id for ex in data} - set(s.train) - set(s.val)
    no_rephrase = {ex.id for ex in data if not ex.equivalents}
    assert set(s.edit) == candidates - no_rephrase and 0 < len(candidates & no_rephrase) < 100
    assert len(s.test) == 50 and s.trainr == s.train[:100] and s.memory == s.train[100:400]
    assert not set(s.train) & set(s.val) and not set(s.train) & set(s.edit) and not set(s.val) & set(s.edit)


def test_single_answer_filter():
    cfg = SplitConfig(**{**CFG.__dict__, "single_answer": True})
    s = make_splits(examples(1000, multi_every=5), examples(50, "d", multi_every=5), cfg, seed=0)
    assert (len(s.train), len(s.val)) == (640, 80) and len(s.test) == 40
    assert all(i not in {f"t{j}" for j in range(0, 1000, 5)} for i in s.train + s.val + s.edit)


def test_seeded():
    a = make_splits(examples(500), [], CFG, seed=1)
    b = make_splits(examples(500), [], CFG, seed=1)
    c = make_splits(examples(500), [], CFG, seed=2)
    assert a == b and a.train != c.train


def test_folds_partition_edit_set_in_seeded_order():
    ids = [f"e{i}" for i in range(103)]
    folds = [fold_ids(ids, 4, k, seed=0) for k in range(4)]
    assert sorted(x for f in folds for x in f) == sorted(ids)
    assert [len(f) for f in folds] == [26, 26, 26, 25]
    assert folds[0] != ids[:26]  # shuffled, not the file order
    assert fold_ids(ids, 4, 0, seed=0) == folds[0] and fold_ids(ids, 4, 0, seed=1) != folds[0]
    with pytest.raises(ConfigError, match="fold 4 does not exist"):
        fold_ids(ids, 4, 4, seed=0)


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="exceeds"):
        make_splits(examples(100), [], CFG, seed=0)
    with pytest.raises(ConfigError, match="must be 1"):
        SplitConfig.from_config({"train": 0.8, "val": 0.1, "edit": 0.2, "trainr_size": 1, "memory_size": 1,
                                 "n_folds": 2})
