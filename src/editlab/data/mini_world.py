"""The offline mini world: a seeded synthetic knowledge base written as Cao-format FEVER and zsRE files.

People belong to regions. A person's first name is drawn from its region's pool, so the *regular*
relations (citizenship, native language, birthplace) are predictable from the name with probability
`p_regular` (otherwise a random object: noise a model must memorise or get wrong). The other relations
(employer, occupation, university) are random and can only be memorised. Training and dev files hold
disjoint facts about overlapping people, so a model answers seen facts by memory and unseen ones only
through the regular relations: the fact checker generalises above chance but errs; the QA model answers
few unseen facts.
Each relation has several paraphrase templates; `rephrases` holds all of them (Cao's may contain the
input itself), which gives every example an equivalence set.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from editlab.config import check_keys, schema_keys
from editlab.errors import ConfigError
from editlab.io import write_json, write_text

QA_TEMPLATES: dict[str, tuple[str, ...]] = {
    "citizenship": ("What is the citizenship of {s}?", "Which country is {s} a citizen of?",
                    "What country does {s} hold citizenship in?", "{s} is a citizen of which country?",
                    "Of which country is {s} a citizen?"),
    "language": ("What is the native language of {s}?", "Which language does {s} speak natively?",
                 "What language did {s} grow up speaking?", "{s} natively speaks which language?",
                 "What is the mother tongue of {s}?"),
    "birthplace": ("Where was {s} born?", "What is the birthplace of {s}?", "In which city was {s} born?",
                   "{s} was born in which city?", "Which city is the birthplace of {s}?"),
    "employer": ("Who is the employer of {s}?", "Which organization does {s} work for?", "Where does {s} work?",
                 "{s} is employed by which organization?", "For which company does {s} work?"),
    "occupation": ("What is the occupation of {s}?", "What does {s} do for a living?", "What is the profession of {s}?",
                   "What job does {s} have?", "{s} works as what?"),
    "university": ("Which university did {s} attend?", "Where did {s} study?", "What school did {s} go to?",
                   "{s} graduated from which university?", "Which university educated {s}?"),
}
CLAIM_TEMPLATES: dict[str, tuple[str, ...]] = {
    "citizenship": ("{s} is a citizen of {o}.", "{s} holds citizenship of {o}.", "{s} has {o} citizenship.",
                    "The citizenship of {s} is {o}."),
    "language": ("The native language of {s} is {o}.", "{s} speaks {o} natively.", "{s} grew up speaking {o}.",
                 "The mother tongue of {s} is {o}."),
    "birthplace": ("{s} was born in {o}.", "The birthplace of {s} is {o}.", "{s} is a native of {o}.",
                   "{o} is where {s} was born."),
    "employer": ("{s} works for {o}.", "{s} is employed by {o}.", "The employer of {s} is {o}.",
                 "{o} employs {s}."),
    "occupation": ("{s} works as a {o}.", "The occupation of {s} is {o}.", "{s} is a {o} by profession.",
                   "{s} earns a living as a {o}."),
    "university": ("{s} attended {o}.", "{s} studied at {o}.", "{s} graduated from {o}.", "{s} was educated at {o}."),
}
RELATIONS = tuple(QA_TEMPLATES)
OCCUPATIONS = ("farmer", "teacher", "painter", "lawyer", "nurse", "pilot", "chemist", "baker", "sailor", "poet",
               "architect", "banker", "surgeon", "actor", "engineer", "journalist")
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


@dataclass(frozen=True)
class WorldConfig:
    """Sizes and noise of the mini world (config section data.mini)."""

    seed: int
    n_regions: int
    n_people_per_region: int
    n_cities_per_region: int
    n_orgs: int
    p_regular: float
    fever_n_train: int
    fever_n_dev: int
    zsre_n_train: int
    zsre_n_dev: int
    p_supports: float = 0.5
    fever_negative_skew: float = 1.0
    first_names_per_region: int = 2

    @classmethod
    def from_config(cls, section: Mapping[str, Any], seed: int) -> WorldConfig:
        check_keys(section, schema_keys("data.schema.yaml", "mini"), "data.mini")
        for task in ("fever", "zsre"):
            check_keys(section.get(task) or {}, schema_keys("data.schema.yaml", "mini", task), f"data.mini.{task}")
        return cls(seed=seed, n_regions=section["n_regions"], n_people_per_region=section["n_people_per_region"],
                   n_cities_per_region=section["n_cities_per_region"], n_orgs=section["n_orgs"],
                   p_regular=section["p_regular"], fever_n_train=section["fever"]["n_train"],
                   fever_negative_skew=section["fever"].get("negative_skew", 1.0),
                   fever_n_dev=section["fever"]["n_dev"], p_supports=section["fever"].get("p_supports", 0.5),
                   zsre_n_train=section["zsre"]["n_train"], zsre_n_dev=section["zsre"]["n_dev"],
                   first_names_per_region=section.get("first_names_per_region", 2))


@dataclass(frozen=True)
class World:
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    cities: tuple[tuple[str, ...], ...]
    orgs: tuple[str, ...]
    universities: tuple[str, ...]
    people: tuple[str, ...]
    facts: tuple[dict[str, str], ...]  # per person: relation -> object


class _Names:
    """Unique pronounceable pseudo-words (one tokenizer word each)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, syllables: int, suffix: str = "") -> str:
        while True:
            w = "".join(self.rng.choice(_CONSONANTS) + self.rng.choice(_VOWELS) for _ in range(syllables)) + suffix
            w = w.capitalize()
            if w not in self.used:
                self.used.add(w)
                return w


def build_world(cfg: WorldConfig) -> World:
    rng = random.Random(cfg.seed)
    names = _Names(rng)
    countries = tuple(names.word(3, "ia") for _ in range(cfg.n_regions))
    languages = tuple(names.word(2, "ese") for _ in range(cfg.n_regions))
    cities = tuple(tuple(names.word(3) for _ in range(cfg.n_cities_per_region)) for _ in range(cfg.n_regions))
    orgs = tuple(names.word(2, "corp") for _ in range(cfg.n_orgs))
    universities = tuple(names.word(2, "ton") for _ in range(max(2, cfg.n_orgs // 2)))
    first = [[names.word(2) for _ in range(cfg.first_names_per_region)] for _ in range(cfg.n_regions)]
    all_cities = [c for region in cities for c in region]

    people: list[str] = []
    facts: list[dict[str, str]] = []
    for region in range(cfg.n_regions):
        for _ in range(cfg.n_people_per_region):
            # A unique surname gives every person a token of its own to attach memorised facts to.
            person = f"{rng.choice(first[region])} {names.word(3)}"

            def regular(objs: tuple[str, ...], region: int = region) -> str:
                return objs[region] if rng.random() < cfg.p_regular else rng.choice(objs)

            birth = rng.choice(cities[region]) if rng.random() < cfg.p_regular else rng.choice(all_cities)
            people.append(person)
            facts.append({
                "citizenship": regular(countries),
                "language": regular(languages),
                "birthplace": birth,
                "employer": rng.choice(orgs),
                "occupation": rng.choice(OCCUPATIONS),
                "university": rng.choice(universities),
            })
    return World(countries, languages, cities, orgs, universities, tuple(people), tuple(facts))


def _objects(world: World, relation: str) -> tuple[str, ...]:
    return {
        "citizenship": world.countries,
        "language": world.languages,
        "birthplace": tuple(c for region in world.cities for c in region),
        "employer": world.orgs,
        "occupation": OCCUPATIONS,
        "university": world.universities,
    }[relation]


def _provenance(rng: random.Random, title: str) -> list[dict[str, Any]]:
    start = rng.randrange(0, 200)
    return [{"wikipedia_id": str(rng.randrange(10**5, 10**7)), "title": title, "start_paragraph_id": 1,
             "start_character": start, "end_paragraph_id": 1, "end_character": start + rng.randrange(20, 200),
             "bleu_score": 1.0, "meta": {}, "section": "Section::::Abstract"}]


def _facts(world: World, rng: random.Random, n_train: int, n_dev: int, where: str
           ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Disjoint train and dev facts (person, relation). People recur across the two, as Wikipedia
    entities do in the real data, so an unseen fact about a known person can be inferred for the
    regular relations (from the region the person's other facts and first name reveal) but not for the
    random ones."""
    pairs = [(p, r) for p in range(len(world.people)) for r in RELATIONS]
    if n_train + n_dev > len(pairs):
        raise ConfigError(f"config key 'data.mini': {where} asks for {n_train + n_dev} facts but the world has "
                          f"only {len(pairs)}; raise n_people_per_region or n_regions")
    rng.shuffle(pairs)
    return pairs[:n_train], pairs[n_train:n_train + n_dev]


def zsre_records(world: World, facts: list[tuple[int, str]], rng: random.Random) -> list[dict[str, Any]]:
    records = []
    for person, relation in facts:
        subject, answer = world.people[person], world.facts[person][relation]
        questions = [t.format(s=subject) for t in QA_TEMPLATES[relation]]
        question = rng.choice(questions)
        others = [o for o in _objects(world, relation) if o != answer]
        records.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "input": question,
            "output": [{"answer": answer, "provenance": _provenance(rng, subject)}],
            "meta": {"template_questions": [question]},
            "rephrases": questions,
            "prediction": rng.choice(others),
            "alternatives": rng.sample(others, k=min(4, len(others))),
            "filtered_rephrases": [q for q in questions if q != question],
        })
    return records


def _decoy_weights(world: World, rng: random.Random, skew: float) -> dict[str, dict[str, float]]:
    """Per relation, a Zipf-like weight per object for drawing false claims' objects. Like the
    claim-only cues of real FEVER, this lets a checker guess unseen claims above chance from the object
    alone; it is the only cue that generalises beyond memorised claims."""
    weights = {}
    for relation in RELATIONS:
        objs = list(_objects(world, relation))
        rng.shuffle(objs)
        weights[relation] = {o: 1.0 / (rank + 1) ** skew for rank, o in enumerate(objs)}
    return weights


def fever_records(world: World, facts: list[tuple[int, str]], rng: random.Random, p_supports: float,
                  first_id: int, decoys: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    records = []
    for i, (person, relation) in enumerate(facts):
        subject, truth = world.people[person], world.facts[person][relation]
        supports = rng.random() < p_supports
        wrong = [o for o in _objects(world, relation) if o != truth]
        obj = truth if supports else rng.choices(wrong, weights=[decoys[relation][o] for o in wrong])[0]
        claims = [t.format(s=subject, o=obj) for t in CLAIM_TEMPLATES[relation]]
        claim = rng.choice(claims)
        label = "SUPPORTS" if supports else "REFUTES"
        records.append({
            "id": str(first_id + i),
            "input": claim,
            "output": [{"answer": label, "provenance": _provenance(rng, subject)}],
            "rephrases": [c for c in claims if c != claim],
            "prediction": rng.choice(["SUPPORTS", "REFUTES"]),
            "alternatives": ["REFUTES" if supports else "SUPPORTS"],
            "filtered_rephrases": [c for c in claims if c != claim],
            "logit": round(rng.uniform(-4, 4), 4),
        })
    return records


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_mini_dataset(cfg: WorldConfig, *, fever_train: str | Path, fever_dev: str | Path, zsre_train: str | Path,
                       zsre_dev: str | Path, world: str | Path) -> None:
    """Generate the world and write the four Cao-format files plus a world description (all atomic)."""
    w = build_world(cfg)
    rng = random.Random(cfg.seed + 1)
    zsre_train_facts, zsre_dev_facts = _facts(w, rng, cfg.zsre_n_train, cfg.zsre_n_dev, "zsre")
    fever_train_facts, fever_dev_facts = _facts(w, rng, cfg.fever_n_train, cfg.fever_n_dev, "fever")
    write_text(zsre_train, _jsonl(zsre_records(w, zsre_train_facts, rng)))
    write_text(zsre_dev, _jsonl(zsre_records(w, zsre_dev_facts, rng)))
    decoys = _decoy_weights(w, rng, cfg.fever_negative_skew)
    write_text(fever_train, _jsonl(fever_records(w, fever_train_facts, rng, cfg.p_supports, 100000, decoys)))
    write_text(fever_dev, _jsonl(fever_records(w, fever_dev_facts, rng, cfg.p_supports, 900000, decoys)))
    write_json(world, {"config": asdict(cfg), "countries": w.countries, "languages": w.languages,
                       "cities": w.cities, "n_people": len(w.people)})
