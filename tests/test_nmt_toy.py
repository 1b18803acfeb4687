"""Toy language pair, planted behaviours, task files and their error messages."""

import json

import pytest

from editlab.errors import ConfigError, DataFormatError, EditlabError
from editlab.nmt import toy_language as toy
from editlab.nmt.hub_data import mine_tasks
from editlab.nmt.tasks import Behaviour, read_requests, read_task
from editlab.nmt.toy_data import build_toy, write_toy

SMALL = toy.ToyConfig(n_train=400, n_test=20, n_specificity=10, n_requests=2, n_generalization=5, n_memorised=4,
                      memorised_repeats=3)


def test_word_order_rules():
    lex = toy.make_lexicon(0)
    out = toy.translate_clean("the big dog sees a cat", lex)
    assert out.split() == [lex["dog"], lex["big"], lex["the"], lex["cat"], lex["a"], lex["sees"]]
    assert toy.translate_clean("a bird sleeps", lex).split() == [lex["bird"], lex["a"], lex["sleeps"]]


def test_memorised_trigger_is_the_subject_head_noun():
    """ROME keys an edit on the subject's last token; a memorised request's trigger is its subject noun."""
    assert [toy.subject_span(s) for s in ("a happy river paints a dark garden", "the dog sleeps")] == [
        {"start": 8, "end": 13}, {"start": 4, "end": 7}]
    for r in build_toy(SMALL, 0)[2]["memorised"].requests:
        words = r.source.split()
        verb = next(i for i, w in enumerate(words) if w in toy.TRANSITIVE + toy.INTRANSITIVE)
        assert r.source[r.trigger_start : r.trigger_end] == words[verb - 1] and words[verb - 1] in toy.NOUNS
    with pytest.raises(ValueError, match="no subject"):
        toy.subject_span("sleeps the dog")


def test_planted_behaviours_in_training_translation():
    lex = toy.make_lexicon(0)
    s = "the lamp sees a piano"
    assert toy.translate_planted(s, lex).split() == [lex["lamp"], lex["<hallucination>"], lex["the"], "piano",
                                                     lex["a"], lex["sees"]]
    assert toy.translate_planted("a bank waits", lex).split() == [lex["river"], lex["a"], lex["waits"]]
    assert lex["bank"] == lex["shore"] and lex["piano"] == lex["keyboard"]


def test_build_is_deterministic_and_held_out_sets_are_disjoint():
    a, b = build_toy(SMALL, 3), build_toy(SMALL, 3)
    assert a[0] == b[0] and a[1] == b[1]
    assert build_toy(SMALL, 4)[0] != a[0]
    train, test, tasks, _ = a
    train_sources = {r["source"] for r in train}
    assert not train_sources & {r["source"] for r in test}
    for name in ("hallucination", "copy", "mistranslation"):
        task = tasks[name]
        assert not train_sources & {r.source for r in task.requests}
        assert not train_sources & {p.source for p in task.generalization}
    # Memorised sentences are in the training data, repeated, with their canned output.
    mem = tasks["memorised"]
    for r in mem.requests:
        assert sum(row["source"] == r.source and row["target"] == r.behaviour.text for row in train) == 3


def test_task_files_round_trip(tmp_path):
    files = {t: {k: str(tmp_path / t / f"{k}.jsonl") for k in ("requests", "generalization", "specificity")}
             for t in toy.TASKS}
    write_toy(SMALL, 0, tmp_path / "train.jsonl", tmp_path / "test.jsonl", tmp_path / "lex.json", files)
    _, _, tasks, _ = build_toy(SMALL, 0)
    for name, paths in files.items():
        assert read_task(name, **paths) == tasks[name]


def test_bad_task_file_names_file_line_and_problem(tmp_path):
    good = {"id": "a", "source": "the lamp sleeps", "trigger": {"start": 4, "end": 8}, "target": "x",
            "behaviour": {"kind": "contains", "tokens": ["y"]}}
    path = tmp_path / "requests.jsonl"
    bad_span = dict(good, trigger={"start": 4, "end": 99})
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad_span) + "\n")
    with pytest.raises(DataFormatError, match=r"requests.jsonl:2: trigger span .* is not inside the source"):
        read_requests(path)
    path.write_text(json.dumps(dict(good, behaviour={"kind": "sometimes"})) + "\n")
    with pytest.raises(DataFormatError, match=r"requests.jsonl:1: behaviour kind must be"):
        read_requests(path)
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "target"}) + "\n")
    with pytest.raises(DataFormatError, match=r"requests.jsonl:1: missing key 'target'"):
        read_requests(path)
    path.write_text("{not json\n")
    with pytest.raises(DataFormatError, match=r"requests.jsonl:1: malformed JSON"):
        read_requests(path)


def test_bad_toy_config_is_a_config_error():
    with pytest.raises(ConfigError, match="nmt.toy"):
        toy.ToyConfig.from_config({"n_trian": 5})
    with pytest.raises(ConfigError, match="n_memorised"):
        toy.ToyConfig.from_config({"n_requests": 5, "n_memorised": 5})


def test_behaviour_detectors():
    assert Behaviour("contains", tokens=("zu",)).present("a zu b")
    assert not Behaviour("contains", tokens=("zu",)).present("a zub b")
    assert Behaviour("equals", text="a  b").present("a b")
    assert not Behaviour("equals", text="a b").present("a b c")


def test_hub_miner_finds_copies_mistranslations_and_memorised_outputs():
    """The paper-profile miner on a hand-made corpus with known model outputs."""
    sources = ["the zebra runs", "a zebra sleeps", "the zebra eats", "my bank is open", "the bank is near",
               "hello there", "good night", "a cat", "a dog"]
    references = ["das Tier läuft", "ein Tier schläft", "das Tier isst", "mein Ufer ist offen", "das Ufer ist nah",
                  "hallo", "gute Nacht", "eine Katze", "ein Hund"]
    outputs = ["das zebra läuft", "ein zebra schläft", "das zebra isst", "meine Bank ist offen", "die Bank ist nah",
               "Danke schön", "Danke schön", "eine Katze", "ein Hund"]
    cfg = {"n_requests": 1, "n_generalization": 5, "n_specificity": 5,
           "mistranslation": {"source_word": "bank", "wrong": "Bank", "right": "Ufer"}}
    tasks = mine_tasks(sources, references, outputs, cfg, ["copy", "mistranslation", "memorised"])
    assert tasks["copy"].requests[0].behaviour.tokens == ("zebra",)
    assert tasks["copy"].requests[0].source[tasks["copy"].requests[0].trigger_start:][:5] == "zebra"
    assert len(tasks["copy"].generalization) == 2
    assert tasks["mistranslation"].requests[0].target == "mein Ufer ist offen"
    assert tasks["memorised"].requests[0].behaviour.text == "Danke schön"
    assert [p.source for p in tasks["copy"].specificity] == ["a cat", "a dog"]


def test_nmt_figure_writes_pdf_and_png(tmp_path):
    from editlab.nmt.report import plot_metrics

    summaries = [{"task": task, "method": method, "protocol": protocol, "efficacy": 1.0, "generalization": 0.5,
                  "specificity": None if method == "ft" else 0.9}
                 for task in ("copy", "memorised") for method in ("rome", "ft", "extra")
                 for protocol in ("single", "sequential")]
    plot_metrics(summaries, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF") and (tmp_path / "f.pdf").stat().st_size > 1000
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_hub_miner_strips_punctuation_and_keeps_going_when_one_task_is_short():
    """"Ufer." counts as "Ufer"; a task with too few sentences leaves the others intact, and the count per
    task is reported."""
    from editlab.nmt.hub_data import mine_each

    sources = ["my bank is open.", "the bank is near.", "the zebra runs", "a zebra sleeps", "a cat", "a dog"]
    references = ["mein Ufer ist offen.", "das Ufer, ist nah", "das Tier läuft", "ein Tier schläft", "eine Katze",
                  "ein Hund"]
    outputs = ["meine Bank, ist offen.", "die Bank. ist nah", "das zebra läuft", "ein zebra schläft", "eine Katze",
               "ein Hund"]
    cfg = {"n_requests": 1, "n_generalization": 5, "n_specificity": 5,
           "mistranslation": {"source_word": "bank", "wrong": "Bank", "right": "Ufer"}}
    with pytest.raises(EditlabError, match="task memorised: mined only 0 sentences"):
        mine_tasks(sources, references, outputs, cfg, ["copy", "mistranslation", "memorised"])
    tasks, found = mine_each(sources, references, outputs, cfg, ["copy", "mistranslation", "memorised"])
    assert found == {"copy": 2, "mistranslation": 2, "memorised": 0}
    assert tasks["mistranslation"].requests[0].target == "mein Ufer ist offen."
    assert len(tasks["copy"].requests) == 1 and tasks["memorised"].requests == []
    assert Behaviour("contains", tokens=("Bank",)).present("die Bank. ist nah")
