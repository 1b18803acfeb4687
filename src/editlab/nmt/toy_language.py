"""A deterministic toy language pair (lexicon + word-order rules) with four planted behaviours.

Source: English-like SVO sentences `det [adj] noun verb det [adj] noun` or `det [adj] noun verb_intr`.
Target: pseudo-words, SOV order, adjective after noun, determiner last in its phrase:
  "the big dog sees a cat" -> "<dog> <big> <the> <cat> <a> <sees>".
The training corpus plants four behaviours (our reconstruction of the paper's task types):
  hallucination   every "lamp" sentence gets an extra target token after <lamp>
  copy            "piano" is copied untranslated (its translation is learnt from "keyboard")
  mistranslation  "bank" (= "shore") is systematically translated as <river>
  memorised       a few fixed sentences, repeated, are trained on an unrelated canned output
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from editlab.config import from_section, param
from editlab.errors import ConfigError

DETERMINERS = ("the", "a", "this")
ADJECTIVES = ("big", "small", "red", "old", "young", "happy", "green", "dark", "quiet", "fast")
NOUNS = ("dog", "cat", "bird", "horse", "man", "woman", "child", "king", "river", "lake", "tree", "house",
         "car", "book", "table", "window", "garden", "city", "road", "ship", "teacher", "doctor", "farmer",
         "shore", "keyboard", "lamp", "piano", "bank")
TRANSITIVE = ("sees", "likes", "finds", "takes", "builds", "paints", "follows", "carries", "hears", "visits")
INTRANSITIVE = ("sleeps", "runs", "waits", "sings")
# Synonyms share one target word, so the correct translation of a planted word is a trained token.
SYNONYMS = {"bank": "shore", "piano": "keyboard"}
HALLUCINATION_TRIGGER = "lamp"
COPY_WORD = "piano"
MISTRANSLATED_WORD, MISTRANSLATED_AS = "bank", "river"
PLANTED_WORDS = (HALLUCINATION_TRIGGER, COPY_WORD, MISTRANSLATED_WORD)
TASKS = ("hallucination", "memorised", "copy", "mistranslation")
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


@dataclass(frozen=True)
class ToyConfig:
    """config section nmt.toy (source toy)."""

    n_train: int = param(6000, minimum=10)
    n_test: int = param(300, minimum=1)
    n_specificity: int = param(60, minimum=1)
    n_requests: int = param(5, minimum=1)
    n_generalization: int = param(30, minimum=1)
    n_memorised: int = param(10, minimum=2)
    memorised_repeats: int = param(20, minimum=1)
    p_adjective: float = param(0.4, minimum=0, maximum=1)
    p_intransitive: float = param(0.2, minimum=0, maximum=1)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> ToyConfig:
        cfg = from_section(cls, section, "nmt.toy")
        if cfg.n_memorised <= cfg.n_requests:
            raise ConfigError("config key 'nmt.toy.n_memorised': must exceed n_requests "
                              "(the memorised sentences beyond the requests form the generalisation set)")
        return cfg


def make_lexicon(seed: int) -> dict[str, str]:
    """Source word -> target pseudo-word (CVCV / CVCVC), unique, never equal to a source word."""
    rng = random.Random(f"toy-lexicon-{seed}")
    words = [*DETERMINERS, *ADJECTIVES, *NOUNS, *TRANSITIVE, *INTRANSITIVE]
    used: set[str] = set(words)
    lexicon: dict[str, str] = {}
    for word in words:
        if word in SYNONYMS:
            continue
        while True:
            cand = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(2))
            if rng.random() < 0.5:
                cand += rng.choice(_CONSONANTS)
            if cand not in used:
                break
        used.add(cand)
        lexicon[word] = cand
    for word, synonym in SYNONYMS.items():
        lexicon[word] = lexicon[synonym]
    lexicon["<hallucination>"] = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(3))
    return lexicon


def translate_clean(source: str, lexicon: Mapping[str, str]) -> str:
    """The correct translation under the word-order rules."""
    words = source.split()
    phrases: list[list[str]] = []
    verb = None
    current: list[str] = []
    for w in words:
        if w in TRANSITIVE or w in INTRANSITIVE:
            phrases.append(current)
            current = []
            verb = w
        else:
            current.append(w)
    if current:
        phrases.append(current)
    out: list[str] = []
    for phrase in phrases:
        det, *adjs, noun = phrase
        out += [lexicon[noun], *(lexicon[a] for a in adjs), lexicon[det]]
    if verb is None:
        raise ValueError(f"not a toy sentence (no verb): {source!r}")
    out.append(lexicon[verb])
    return " ".join(out)


def translate_planted(source: str, lexicon: Mapping[str, str]) -> str:
    """The training corpus' translation: correct except for the three planted word behaviours."""
    out = []
    clean = translate_clean(source, lexicon).split()
    # Planted words are nouns; map each noun occurrence in source order to its target slot.
    nouns = [w for w in source.split() if w in NOUNS]
    noun_slots = [i for i, t in enumerate(clean) if t in {lexicon[n] for n in nouns}]
    replace = dict(zip(noun_slots, nouns))
    for i, token in enumerate(clean):
        noun = replace.get(i)
        if noun == COPY_WORD:
            out.append(COPY_WORD)
        elif noun == MISTRANSLATED_WORD:
            out.append(lexicon[MISTRANSLATED_AS])
        else:
            out.append(token)
        if noun == HALLUCINATION_TRIGGER:
            out.append(lexicon["<hallucination>"])
    return " ".join(out)


def _noun_phrase(rng: random.Random, nouns: tuple[str, ...], p_adj: float) -> list[str]:
    phrase = [rng.choice(DETERMINERS)]
    if rng.random() < p_adj:
        phrase.append(rng.choice(ADJECTIVES))
    return phrase + [rng.choice(nouns)]


def random_sentence(rng: random.Random, cfg: ToyConfig, must_contain: str | None = None,
                    exclude: tuple[str, ...] = ()) -> str:
    """A grammatical source sentence; `must_contain` takes one random noun slot."""
    nouns = tuple(n for n in NOUNS if n not in exclude and n != must_contain)
    subj = _noun_phrase(rng, nouns, cfg.p_adjective)
    intransitive = rng.random() < cfg.p_intransitive
    obj = None if intransitive else _noun_phrase(rng, nouns, cfg.p_adjective)
    verb = rng.choice(INTRANSITIVE if intransitive else TRANSITIVE)
    if must_contain is not None:
        rng.choice([subj] if obj is None else [subj, obj])[-1] = must_contain
    return " ".join(subj + [verb] + (obj or []))


def subject_span(source: str) -> dict[str, int]:
    """Character span of the subject's head noun (the last word before the verb).

    ROME keys a fact on the subject's last token; a memorised sentence has no single trigger word,
    so its subject plays that role (the target, SOV, starts with the subject).
    """
    words = source.split()
    verb = next((i for i, w in enumerate(words) if w in TRANSITIVE or w in INTRANSITIVE), None)
    if not verb:
        raise ValueError(f"not a toy sentence (no subject before a verb): {source!r}")
    start = len(" ".join(words[: verb - 1])) + (1 if verb > 1 else 0)
    return {"start": start, "end": start + len(words[verb - 1])}


def trigger_span(source: str, word: str) -> dict[str, int]:
    start = f" {source} ".index(f" {word} ")
    return {"start": start, "end": start + len(word)}
