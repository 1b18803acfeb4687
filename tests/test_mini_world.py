"""The mini world: deterministic, in the Cao formats the real readers accept, with equivalence sets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from editlab.config import load_config
from editlab.data.mini_world import WorldConfig, write_mini_dataset
from editlab.data.readers import read_cao_fever, read_cao_zsre

REPO = Path(__file__).resolve().parents[1]


def generate(tmp: Path, seed: int) -> dict[str, Path]:
    cfg = load_config(REPO / "config" / "ci.yaml")
    paths = {k: tmp / f"{k}.jsonl" for k in ("fever_train", "fever_dev", "zsre_train", "zsre_dev")}
    paths["world"] = tmp / "world.json"
    write_mini_dataset(WorldConfig.from_config(cfg["data"]["mini"], seed=seed), **paths)
    return paths


def digest(paths: dict[str, Path]) -> dict[str, str]:
    return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = generate(tmp_path / "a", 0), generate(tmp_path / "b", 0), generate(tmp_path / "c", 1)
    assert digest(a) == digest(b)
    da, dc = digest(a), digest(c)
    assert all(da[k] != dc[k] for k in da)


def test_files_parse_with_the_real_readers(tmp_path):
    paths = generate(tmp_path, 0)
    cfg = load_config(REPO / "config" / "ci.yaml")["data"]["mini"]
    fever_train = read_cao_fever(paths["fever_train"])
    zsre_train = read_cao_zsre(paths["zsre_train"])
    assert len(fever_train) == cfg["fever"]["n_train"] and len(zsre_train) == cfg["zsre"]["n_train"]
    assert all(ex.equivalents for ex in fever_train + zsre_train)
    labels = [ex.label for ex in fever_train]
    assert 0.35 < sum(labels) / len(labels) < 0.65
    # Cao zsRE records carry every field of the real format.
    record = json.loads(paths["zsre_train"].read_text().splitlines()[0])
    assert set(record) == {"id", "input", "output", "meta", "rephrases", "prediction", "alternatives",
                           "filtered_rephrases"}
    assert set(record["output"][0]) == {"answer", "provenance"}
    fever_record = json.loads(paths["fever_train"].read_text().splitlines()[0])
    assert {"logit", "rephrases", "filtered_rephrases"} <= set(fever_record)


def test_train_and_dev_are_about_different_people(tmp_path):
    paths = generate(tmp_path, 0)

    def subjects(path: Path) -> set[str]:
        return {json.loads(line)["output"][0]["provenance"][0]["title"] for line in path.read_text().splitlines()}

    assert not subjects(paths["zsre_train"]) & subjects(paths["zsre_dev"])
    assert not subjects(paths["fever_train"]) & subjects(paths["fever_dev"])
