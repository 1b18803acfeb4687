"""editlab.edit on tiny local checkpoints: the README example as written, edited checkpoints reloaded in a fresh
process without editlab, exact revert, SME semantics, bad arguments."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO
from tiny_fixtures import load_tiny, tiny_dir  # noqa: F401  (fixture)

import editlab
from editlab.errors import EditlabError


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the README section "Edit your own model"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Edit your own model\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(python|bash)\n(.*?)```", section, re.S)


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PYTHONPATH=str(REPO / "src"), PATH=f"{bin_dir}:{os.environ['PATH']}",
                OMP_NUM_THREADS="1", EDITLAB_PROGRESS_SECONDS="3600")


def test_readme_example_runs_as_written(tiny_dir, tmp_path):  # noqa: F811
    blocks = readme_blocks()
    assert [lang for lang, _ in blocks] == ["bash", "python", "bash"]
    # The first block builds the tiny checkpoints; the session fixture ran exactly that function.
    assert blocks[0][1].strip() == "python -m editlab.tiny_models tiny"
    (tmp_path / "tiny").symlink_to(tiny_dir)
    py = subprocess.run([sys.executable, "-c", "import torch; torch.set_num_threads(1)\n" + blocks[1][1]],
                        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert py.returncode == 0, py.stderr[-3000:]
    lines = py.stdout.splitlines()
    per_request = [line.split() for line in lines if " locality " not in line]
    assert {row[0] for row in per_request} == {"bert", "bart", "marian", "t5"}
    for row in per_request:
        assert row[4] == "success", row                      # every request holds after its edit
    assert sum(row[3] == "edited" for row in per_request) >= 12
    locality = {line.split()[0]: float(line.split()[2]) for line in lines if " locality " in line}
    assert set(locality) == {"bert", "bart", "marian", "t5"}
    # inputs outside the memory mostly unchanged (16 held-out inputs; measured 0.625-1.0 across the four models)
    assert min(locality.values()) >= 0.6, locality
    cli = subprocess.run(["bash", "-euo", "pipefail", "-c", blocks[2][1]], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "summary: 4 requests" in cli.stdout
    for out in ("edited/bart-cli", "edited/t5-cli"):
        records = [json.loads(r) for r in (tmp_path / out / "edit_records.jsonl").read_text().splitlines()]
        assert len(records) == 4 and all(r["success"] for r in records)
    # The last CLI line decodes with the saved BART checkpoint: ana's edited target.
    target = json.loads((tiny_dir / "seq2seq_requests.jsonl").read_text().splitlines()[0])["target"]
    assert cli.stdout.strip().splitlines()[-1] == str([target])


# Same thread count as the test process (1): a different count changes float summation orders.
FRESH = """
import sys, torch
torch.set_num_threads(1)
from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification
batch = torch.load(sys.argv[2])
auto = AutoModelForSequenceClassification if "decoder_input_ids" not in batch else AutoModelForSeq2SeqLM
model = auto.from_pretrained(sys.argv[1]).eval()
with torch.no_grad():
    logits = model(**batch).logits
assert not any(m == "editlab" or m.startswith("editlab.") for m in sys.modules)
torch.save(logits, sys.argv[3])
"""


def _batch(model, tokenizer, inputs: list[str]) -> dict[str, torch.Tensor]:
    enc = tokenizer(inputs, padding=True, return_tensors="pt")
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    if "Classification" not in type(model).__name__:
        # Teacher-forced on what the edited model generates.
        outputs = editlab.predict(model, tokenizer, inputs)
        tgt = tokenizer(outputs, padding=True, return_tensors="pt")["input_ids"]
        start = torch.full((len(inputs), 1), model.config.decoder_start_token_id)
        batch["decoder_input_ids"] = torch.cat([start, tgt[:, :-1]], dim=1)
    return batch


@pytest.mark.parametrize("name,method,requests", [("bert", "tpatcher", [2]), ("bart", "tpatcher", [0, 1]),
                                                  ("marian", "ft", [2]), ("t5", "rome", [0, 1, 2, 3])])
def test_saved_checkpoint_is_the_edited_model_and_revert_is_exact(tiny_dir, tmp_path, name, method,  # noqa: F811
                                                                  requests):
    model, tok, reqs, memory, held_out = load_tiny(tiny_dir, name)
    inputs = [reqs[i]["input"] for i in requests] + held_out
    base_batch = _batch(model, tok, inputs)
    with torch.no_grad():
        base_logits = model(**base_batch).logits
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    # the tiny T5 needs a looser clamp of delta than ROME's 4 |v0| for all four edits (README example)
    hparams = {"lr": 1e-3} if method == "ft" else {"clamp_norm_factor": 8.0} if name == "t5" else {}
    result = editlab.edit(model, tok, [reqs[i] for i in requests], method, memory=memory, progress=False, **hparams)
    assert all(r.success for r in result.records), result.records
    assert any(r.edited for r in result.records)
    batch = _batch(result.model, tok, inputs)
    with torch.no_grad():
        edited_logits = result.model(**batch).logits
    result.save_pretrained(tmp_path / "out")
    if method == "tpatcher":
        config = json.loads((tmp_path / "out" / "config.json").read_text())
        width = config["intermediate_size"] if name == "bert" else config["decoder_ffn_dim"]
        assert width == 64 + result.n_neurons and result.n_neurons > 0
    torch.save(batch, tmp_path / "batch.pt")
    subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "out"), str(tmp_path / "batch.pt"),
                    str(tmp_path / "logits.pt")], check=True, env=dict(os.environ, PYTHONPATH=""), timeout=300)
    reloaded = torch.load(tmp_path / "logits.pt")
    assert float((reloaded - edited_logits).abs().max()) <= 1e-5
    result.revert()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in base_state.items())
    with torch.no_grad():
        assert torch.equal(model(**base_batch).logits, base_logits)


def test_a_request_the_model_already_gets_right_is_not_edited(tiny_dir):  # noqa: F811
    model, tok, reqs, memory, _ = load_tiny(tiny_dir, "t5")
    current = editlab.predict(model, tok, [reqs[0]["input"]])[0]
    result = editlab.edit(model, tok, [{"input": reqs[0]["input"], "target": current}, reqs[1]], "rome",
                          memory=memory, progress=False)
    first, second = result.records
    assert (first.edited, first.success, first.steps) == (False, True, 0)
    assert second.edited and second.success


def test_bad_arguments_are_refused_with_one_line(tiny_dir):  # noqa: F811
    model, tok, reqs, memory, _ = load_tiny(tiny_dir, "bert")
    with pytest.raises(EditlabError, match="unknown method 'memit'"):
        editlab.edit(model, tok, reqs, "memit", memory=memory)
    with pytest.raises(EditlabError, match="needs a locality set"):
        editlab.edit(model, tok, reqs, "tpatcher")
    with pytest.raises(EditlabError, match=r"target 'maybe' is not a label of the model \(labels: false, true\)"):
        editlab.edit(model, tok, [{"input": "ana lives in rome", "target": "maybe"}], "ft")
    with pytest.raises(EditlabError, match="unknown hyperparameter 'learning_rate'"):
        editlab.edit(model, tok, reqs, "ft", learning_rate=1.0)
    with pytest.raises(EditlabError, match="edits encoder-decoder models"):
        editlab.edit(model, tok, reqs, "rome", memory=memory)
    t5, t5_tok, t5_reqs, t5_memory, _ = load_tiny(tiny_dir, "t5")
    with pytest.raises(EditlabError, match="cannot edit a T5ForConditionalGeneration"):
        editlab.edit(t5, t5_tok, t5_reqs, "tpatcher", memory=t5_memory)
    with pytest.raises(EditlabError, match="needs a corpus for its key covariance"):
        editlab.edit(t5, t5_tok, t5_reqs, "rome")


def test_import_editlab_stays_cheap():
    code = "import sys, editlab; assert 'torch' not in sys.modules and 'editlab.api' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=str(REPO / "src")))


def test_inputs_that_would_be_misread_are_refused(tiny_dir, tmp_path):  # noqa: F811
    model, tok, reqs, memory, _ = load_tiny(tiny_dir, "bert")
    # a plain string is a sequence of characters: refused where a list of inputs is meant
    with pytest.raises(EditlabError, match="memory: expected a list of input strings, got str"):
        editlab.edit(model, tok, reqs, "tpatcher", memory="ana lives in rome", progress=False)
    with pytest.raises(EditlabError, match="memory: entry 2 is not a non-empty string"):
        editlab.edit(model, tok, reqs, "tpatcher", memory=[memory[0], " "], progress=False)
    with pytest.raises(EditlabError, match="texts: expected a list of input strings, got str"):
        editlab.predict(model, tok, "ana lives in rome")
    with pytest.raises(EditlabError, match="requests: expected a list of requests, got dict"):
        editlab.edit(model, tok, reqs[0], "ft", progress=False)
    with pytest.raises(EditlabError, match="hyperparameter 'max_steps' of method 'tpatcher': 0 is less than"):
        editlab.edit(model, tok, reqs, "tpatcher", memory=memory, max_steps=0, progress=False)
    t5, t5_tok, t5_reqs, t5_memory, _ = load_tiny(tiny_dir, "t5")
    with pytest.raises(EditlabError, match="stats_corpus: expected a list of input strings, got str"):
        editlab.edit(t5, t5_tok, t5_reqs, "rome", stats_corpus="where does ana live ?", progress=False)
    # nothing above changed the model
    assert not hasattr(model, editlab.api.EDIT_STACK) and not hasattr(t5, editlab.api.EDIT_STACK)


def test_results_revert_last_in_first_out_and_save_only_where_safe(tiny_dir, tmp_path):  # noqa: F811
    model, tok, reqs, memory, _ = load_tiny(tiny_dir, "bert")
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    first = editlab.edit(model, tok, reqs[:2], "tpatcher", memory=memory, progress=False)
    after_first = {k: v.clone() for k, v in model.state_dict().items()}
    second = editlab.edit(model, tok, reqs[2:], "ft", memory=memory, progress=False, lr=1e-3)
    assert first.n_neurons > 0 and any(r.edited for r in second.records)
    # the older result no longer describes the model: neither reverted nor saved before the newer one goes
    with pytest.raises(EditlabError, match=r"revert the later edits of this model first \(last in, first out\): 1"):
        first.revert()
    with pytest.raises(EditlabError, match="a later editlab.edit call changed this model"):
        first.save_pretrained(tmp_path / "first")
    # saving: a non-empty directory only with force, the directory the model came from never
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("precious\n")
    with pytest.raises(EditlabError, match="directory exists and is not empty"):
        second.save_pretrained(busy)
    assert (busy / "notes.txt").exists()
    with pytest.raises(EditlabError, match="is \\(or contains\\) the input"):
        second.save_pretrained(tiny_dir / "bert", force=True)
    second.save_pretrained(busy, force=True)
    assert not (busy / "notes.txt").exists() and (busy / "config.json").is_file()
    second.revert()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in after_first.items())
    first.revert()
    assert model.state_dict().keys() == base_state.keys()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in base_state.items())
    first.revert()   # twice: nothing to do
