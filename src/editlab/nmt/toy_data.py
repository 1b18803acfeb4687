"""Write the toy pair's corpora and the candidate task files of the four planted behaviours."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping

from editlab.io import write_json, write_jsonl
from editlab.nmt import toy_language as toy
from editlab.nmt.tasks import Behaviour, EditRequest, Probe, Task, write_task


def _unique(rng: random.Random, cfg: toy.ToyConfig, n: int, taken: set[str], **kw: object) -> list[str]:
    out: list[str] = []
    for _ in range(200 * n + 1000):
        if len(out) == n:
            return out
        s = toy.random_sentence(rng, cfg, **kw)  # type: ignore[arg-type]
        if s not in taken:
            taken.add(s)
            out.append(s)
    raise RuntimeError(f"could not draw {n} distinct toy sentences ({kw}); the grammar is too small")


def _word_task(name: str, word: str, bad: str, rng: random.Random, cfg: toy.ToyConfig, lex: Mapping[str, str],
               taken: set[str], specificity: list[str]) -> Task:
    exclude = toy.PLANTED_WORDS + ((toy.MISTRANSLATED_AS,) if word == toy.MISTRANSLATED_WORD else ())
    sources = _unique(rng, cfg, cfg.n_requests + cfg.n_generalization, taken, must_contain=word, exclude=exclude)
    behaviour = Behaviour("contains", tokens=(bad,))
    requests = []
    for i, s in enumerate(sources[: cfg.n_requests]):
        span = toy.trigger_span(s, word)
        requests.append(EditRequest(f"{name}-r{i}", s, span["start"], span["end"], toy.translate_clean(s, lex),
                                    behaviour))
    gen = [Probe(f"{name}-g{i}", s, toy.translate_clean(s, lex), behaviour)
           for i, s in enumerate(sources[cfg.n_requests :])]
    spec = [Probe(f"{name}-s{i}", s, toy.translate_clean(s, lex)) for i, s in enumerate(specificity)]
    return Task(name, requests, gen, spec)


def build_toy(cfg: toy.ToyConfig, seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]], dict[str, Task], dict[str, str]]:
    """(train corpus, clean test set, tasks, lexicon); everything a pure function of (cfg, seed)."""
    rng = random.Random(f"toy-data-{seed}")
    lex = toy.make_lexicon(seed)
    taken: set[str] = set()
    # Held-out sets first, so the training corpus never contains them.
    test = _unique(rng, cfg, cfg.n_test, taken, exclude=toy.PLANTED_WORDS)
    spec_pool = _unique(rng, cfg, cfg.n_specificity, taken, exclude=toy.PLANTED_WORDS)
    tasks = {
        "hallucination": _word_task("hallucination", toy.HALLUCINATION_TRIGGER, lex["<hallucination>"], rng, cfg,
                                    lex, taken, spec_pool),
        "copy": _word_task("copy", toy.COPY_WORD, toy.COPY_WORD, rng, cfg, lex, taken, spec_pool),
        "mistranslation": _word_task("mistranslation", toy.MISTRANSLATED_WORD, lex[toy.MISTRANSLATED_AS], rng, cfg,
                                     lex, taken, spec_pool),
    }
    memorised = _unique(rng, cfg, cfg.n_memorised, taken, exclude=toy.PLANTED_WORDS)
    canned = _unique(rng, cfg, cfg.n_memorised, taken, exclude=toy.PLANTED_WORDS)
    mem_targets = [toy.translate_clean(c, lex) for c in canned]
    requests = []
    gen = []
    for i, (s, bad) in enumerate(zip(memorised, mem_targets)):
        behaviour = Behaviour("equals", text=bad)
        if i < cfg.n_requests:
            # Trigger = the subject's head noun (ROME's subject-last-token key). The sentence's last word
            # was used before: one edit at that key cannot undo tokens of the canned output that the
            # other source positions still produce (docs/methods/rank_one_editing.md).
            span = toy.subject_span(s)
            requests.append(EditRequest(f"memorised-r{i}", s, span["start"], span["end"],
                                        toy.translate_clean(s, lex), behaviour))
        else:
            gen.append(Probe(f"memorised-g{i - cfg.n_requests}", s, toy.translate_clean(s, lex), behaviour))
    tasks["memorised"] = Task("memorised", requests, gen,
                              [Probe(f"memorised-s{i}", s, toy.translate_clean(s, lex)) for i, s in enumerate(spec_pool)])
    train_sources = _unique(rng, cfg, cfg.n_train, taken)
    train = [{"source": s, "target": toy.translate_planted(s, lex)} for s in train_sources]
    train += [{"source": s, "target": t} for s, t in zip(memorised, mem_targets)] * cfg.memorised_repeats
    rng.shuffle(train)
    test_rows = [{"source": s, "target": toy.translate_clean(s, lex)} for s in test]
    return train, test_rows, {name: tasks[name] for name in toy.TASKS}, lex


def write_toy(cfg: toy.ToyConfig, seed: int, train: str | os.PathLike[str], test: str | os.PathLike[str],
              lexicon: str | os.PathLike[str], task_files: Mapping[str, Mapping[str, str]]) -> None:
    """task_files: task -> {requests, generalization, specificity} paths."""
    train_rows, test_rows, tasks, lex = build_toy(cfg, seed)
    write_jsonl(train, train_rows)
    write_jsonl(test, test_rows)
    write_json(lexicon, lex)
    for name, paths in task_files.items():
        write_task(tasks[name], paths["requests"], paths["generalization"], paths["specificity"])
