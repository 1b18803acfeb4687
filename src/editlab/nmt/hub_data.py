"""Paper profile: real sentences for statistics/test, and task candidates mined from the hub model's errors.

The paper's own task files could not be obtained; these miners are our reconstruction. Each finds
sentences where the model shows the behaviour (compared with the reference translation):
  copy            a source word (lower-case, ≥ 5 letters) reappears verbatim in the output, not in the reference
  mistranslation  a configured source word whose output has the configured wrong word, reference the right one
  hallucination   a configured trigger string in the source, output tokens absent from source and reference
  memorised       one output produced verbatim for several different sources
The positive target of a request is the reference translation. Requests and generalisation inputs
are split from the same mined pool; specificity inputs are sentences none of the miners selected.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from editlab.errors import EditlabError
from editlab.io import write_json, write_jsonl
from editlab.nmt.model import load_model, translate
from editlab.nmt.tasks import Behaviour, EditRequest, Probe, Task, words, write_task

log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z]{5,}")


def _span(source: str, needle: str) -> tuple[int, int]:
    start = source.index(needle)
    return start, start + len(needle)


def _task(name: str, rows: Sequence[tuple[str, str, str, Behaviour]], n_req: int, n_gen: int,
          specificity: Sequence[tuple[str, str]]) -> Task:
    """rows: (source, reference, trigger string, behaviour)."""
    if len(rows) < n_req + 1:
        raise EditlabError(f"task {name}: mined only {len(rows)} sentences showing the behaviour; "
                           f"need at least {n_req + 1} (raise nmt.hub_data.n_mine)")
    return _split_task(name, rows, n_req, n_gen, specificity)


def _split_task(name: str, rows: Sequence[tuple[str, str, str, Behaviour]], n_req: int, n_gen: int,
                specificity: Sequence[tuple[str, str]]) -> Task:
    requests = [EditRequest(f"{name}-r{i}", s, *_span(s, trig), target=ref, behaviour=b)
                for i, (s, ref, trig, b) in enumerate(rows[:n_req])]
    gen = [Probe(f"{name}-g{i}", s, ref, b) for i, (s, ref, _, b) in enumerate(rows[n_req : n_req + n_gen])]
    spec = [Probe(f"{name}-s{i}", s, ref) for i, (s, ref) in enumerate(specificity)]
    return Task(name, requests, gen, spec)


Rows = list[tuple[str, str, str, Behaviour]]


def mine_tasks(sources: Sequence[str], references: Sequence[str], outputs: Sequence[str], cfg: Mapping[str, Any],
               tasks: Sequence[str]) -> dict[str, Task]:
    """Pure function of the corpus and the model's outputs on it; a task with too few sentences is an error."""
    mined, specificity = mine_rows(sources, references, outputs, cfg, tasks)
    return {name: _task(name, mined.get(name, []), int(cfg.get("n_requests", 20)),
                        int(cfg.get("n_generalization", 100)), specificity) for name in tasks}


def mine_each(sources: Sequence[str], references: Sequence[str], outputs: Sequence[str], cfg: Mapping[str, Any],
              tasks: Sequence[str]) -> tuple[dict[str, Task], dict[str, int]]:
    """Like `mine_tasks`, but a task that finds too few sentences does not stop the others: it gets all found
    sentences but one as requests (the last one as its generalisation probe), or no request when it found
    fewer than 2 (its requests file is then empty, and only that task's editing jobs stop, with "no edit
    requests"). Returns the tasks and how many sentences each miner found."""
    mined, specificity = mine_rows(sources, references, outputs, cfg, tasks)
    n_req, n_gen = int(cfg.get("n_requests", 20)), int(cfg.get("n_generalization", 100))
    out: dict[str, Task] = {}
    for name in tasks:
        rows = mined.get(name, [])
        if len(rows) < n_req + 1:
            log.warning("task %s: mined only %d sentences showing the behaviour (need %d for %d requests; raise "
                        "nmt.hub_data.n_mine); using %d requests", name, len(rows), n_req + 1, n_req,
                        max(0, len(rows) - 1))
        out[name] = _split_task(name, rows, min(n_req, max(0, len(rows) - 1)), n_gen, specificity)
    return out, {name: len(mined.get(name, [])) for name in tasks}


def mine_rows(sources: Sequence[str], references: Sequence[str], outputs: Sequence[str], cfg: Mapping[str, Any],
              tasks: Sequence[str]) -> tuple[dict[str, Rows], list[tuple[str, str]]]:
    """The sentences each miner selects, and the specificity inputs (sentences none selected)."""
    used: set[int] = set()
    mined: dict[str, Rows] = {}
    if "copy" in tasks:
        by_word: dict[str, list[int]] = defaultdict(list)
        for i, (s, r, o) in enumerate(zip(sources, references, outputs)):
            out_words = set(re.findall(r"\w+", o.lower()))
            ref_words = set(re.findall(r"\w+", r.lower()))
            for w in set(_WORD.findall(s)):
                if w in out_words and w not in ref_words:
                    by_word[w].append(i)
        if by_word:
            word, idx = max(by_word.items(), key=lambda kv: (len(kv[1]), kv[0]))
            mined["copy"] = [(sources[i], references[i], word, Behaviour("contains", tokens=(word,))) for i in idx]
            used |= set(idx)
    if "mistranslation" in tasks and "mistranslation" in cfg:
        m = cfg["mistranslation"]
        idx = [i for i, (s, r, o) in enumerate(zip(sources, references, outputs))
               if m["source_word"] in words(s) and m["wrong"] in words(o) and m["right"] in words(r)]
        mined["mistranslation"] = [(sources[i], references[i], m["source_word"],
                                    Behaviour("contains", tokens=(m["wrong"],))) for i in idx]
        used |= set(idx)
    if "hallucination" in tasks:
        rows = []
        for trig in cfg.get("hallucination_triggers", []):
            extra: Counter[str] = Counter()
            hits = []
            for i, (s, r, o) in enumerate(zip(sources, references, outputs)):
                if trig in s:
                    novel = set(words(o)) - set(words(r)) - set(words(s))
                    if novel:
                        extra.update(novel)
                        hits.append(i)
            if extra:
                token = extra.most_common(1)[0][0]
                idx = [i for i in hits if token in words(outputs[i])]
                rows += [(sources[i], references[i], trig, Behaviour("contains", tokens=(token,))) for i in idx]
                used |= set(idx)
        mined["hallucination"] = rows
    if "memorised" in tasks:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, o in enumerate(outputs):
            groups[o].append(i)
        rows = []
        for out, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            if len(idx) < 2 or len({sources[i] for i in idx}) < 2:
                continue
            rows += [(sources[i], references[i], sources[i].split()[-1], Behaviour("equals", text=out))
                     for i in idx if out != references[i]]
            used |= set(idx)
        mined["memorised"] = rows
    specificity = [(s, r) for i, (s, r) in enumerate(zip(sources, references)) if i not in used]
    return mined, specificity[:int(cfg.get("n_specificity", 500))]


def _load_pairs(cfg: Mapping[str, Any], split: str, limit: int) -> list[tuple[str, str]]:
    from datasets import load_dataset

    data = load_dataset(cfg["dataset"], cfg.get("dataset_config"), split=f"{split}[:{limit}]",
                        revision=cfg.get("revision"))
    src, tgt = cfg["source_lang"], cfg["target_lang"]
    return [(row["translation"][src], row["translation"][tgt]) for row in data]


def make_hub_data(nmt: Mapping[str, Any], seed: int, model_dir: str, train: str, test: str, lexicon: str,
                  task_files: Mapping[str, Mapping[str, str]], device: str = "cpu") -> None:
    """Download the statistics corpus and the test set, mine the four tasks (needs internet)."""
    cfg = nmt["hub_data"]
    stats_pairs = _load_pairs(cfg, cfg["stats_split"], int(nmt["stats"]["n_samples"]) + int(cfg["n_mine"]))
    corpus, pool = stats_pairs[: int(nmt["stats"]["n_samples"])], stats_pairs[int(nmt["stats"]["n_samples"]) :]
    write_jsonl(train, ({"source": s, "target": t} for s, t in corpus))
    write_jsonl(test, ({"source": s, "target": t} for s, t in _load_pairs(cfg, cfg["test_split"], int(cfg["n_test"]))))
    write_json(lexicon, {})  # no lexicon for real data; kept so both data rules have the same outputs
    model, tok = load_model(model_dir, device)
    outputs = translate(model, tok, [s for s, _ in pool], max_new_tokens=int(nmt["eval"]["max_new_tokens"]),
                        device=device, progress="mine NMT tasks: translate the pool")
    tasks, found = mine_each([s for s, _ in pool], [t for _, t in pool], outputs, cfg, nmt["tasks"])
    for name, count in found.items():
        log.info("task %s: mined %d sentences showing the behaviour (%d requests)", name, count,
                 len(tasks[name].requests))
    for name, paths in task_files.items():
        write_task(tasks[name], paths["requests"], paths["generalization"], paths["specificity"])
