"""Patch files: export from a fold, apply (a plain checkpoint that transformers alone loads as the edited
model) and predict in a fresh process, revert bit for bit, bad patches."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO
from test_sme import _config, _write_world

from editlab.sme.runner import run_stream


def editlab_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`editlab ...` in a fresh process (one thread, so float results do not depend on thread count)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "editlab.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# Loads an applied directory with transformers only (editlab is never imported) and saves its logits on the
# given texts (encoded by AutoTokenizer) or token-id rows; seq2seq models are teacher-forced on the input ids,
# or on {"source": rows, "decoder": id rows}.
FRESH_LOAD = """
import json, sys, torch
from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoTokenizer
torch.set_num_threads(1)
model_dir, kind, inputs, out = sys.argv[1:5]
auto = AutoModelForSequenceClassification if kind == "classifier" else AutoModelForSeq2SeqLM
model = auto.from_pretrained(model_dir).eval()
given = json.loads(open(inputs).read())
rows = given["source"] if isinstance(given, dict) else given
if isinstance(rows[0], str):
    enc = AutoTokenizer.from_pretrained(model_dir)(rows, padding=True, return_tensors="pt")
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
else:
    batch = {"input_ids": torch.tensor(rows), "attention_mask": torch.ones(len(rows), len(rows[0]), dtype=torch.long)}
if kind == "seq2seq":
    batch["decoder_input_ids"] = torch.tensor(given["decoder"]) if isinstance(given, dict) else batch["input_ids"]
with torch.no_grad():
    logits = model(**batch).logits
assert not [m for m in sys.modules if m.split(".")[0] == "editlab"]
torch.save({"batch": batch, "logits": logits, "class": type(model).__name__}, out)
"""


def fresh_transformers_logits(model_dir: Path, kind: str, inputs: list | dict, tmp: Path) -> dict:
    """{batch, logits, class} of `model_dir` loaded with AutoModelFor... (+ AutoTokenizer for text inputs) in
    a fresh process with neither editlab on the path nor imported."""
    (tmp / "fresh_inputs.json").write_text(json.dumps(inputs))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(model_dir), kind, str(tmp / "fresh_inputs.json"),
                           str(tmp / "fresh.pt")], capture_output=True, text=True, env=env, cwd=tmp, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return torch.load(tmp / "fresh.pt")


@torch.no_grad()
def max_diff(model, batch: dict, fresh_logits: torch.Tensor) -> float:
    return float((model.eval()(**batch).logits - fresh_logits).abs().max())


def check_applied_layout(applied: Path, base_dir: Path) -> None:
    """The base files (weights and config under their kept names), the edited ones, the patch and the record."""
    base = {p.name for p in base_dir.iterdir() if p.is_file() and not p.name.startswith(".")}
    kept = {"model.safetensors": "base_model.safetensors", "config.json": "base_config.json"}
    want = {kept.get(n, n) for n in base} | {"model.safetensors", "config.json", "patches.safetensors",
                                             "patches.json", "editlab_apply.json"}
    assert {p.name for p in applied.iterdir()} == want
    for name in base:
        assert sha256(applied / kept.get(name, name)) == sha256(base_dir / name), name
    assert sha256(applied / "model.safetensors") != sha256(base_dir / "model.safetensors")


def check_round_trip(tmp: Path, fold_dir: Path, base_dir: Path, inputs: dict[str, str],
                     hooks_atol: float | None = 1e-5) -> dict:
    """apply -> predict (fresh process) == the fold's final predictions; the applied directory loaded by
    transformers alone == the patched model (within `hooks_atol`; None: the bound `apply` itself enforces);
    revert == base, byte for byte."""
    recorded = read_rows(fold_dir / "final_predictions.jsonl")
    assert recorded and {r["set"] for r in recorded} == {"edit", "test"}
    proc = editlab_cli("patch", "apply", str(base_dir), str(fold_dir / "patches.safetensors"),
                       "--out", str(tmp / "patched"))
    assert proc.returncode == 0, proc.stderr
    rows = [{"id": r["id"], "input": inputs[r["id"]]} for r in recorded]
    (tmp / "inputs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = editlab_cli("patch", "predict", str(tmp / "patched"), str(tmp / "inputs.jsonl"),
                       "--out", str(tmp / "preds.jsonl"))
    assert proc.returncode == 0, proc.stderr
    got = read_rows(tmp / "preds.jsonl")
    assert [{k: v for k, v in r.items() if k != "set"} for r in recorded] == got   # logits bit-equal too
    check_applied_layout(tmp / "patched", base_dir)

    # Without the patch (the base directory loaded the same way) at least one edit is predicted differently:
    # the comparison above would notice patches that do nothing.
    from editlab.models.build import load_base_model
    from editlab.patchfile import predict

    meta = json.loads((fold_dir / "patches.json").read_text())
    model, tok = load_base_model(meta["task"], base_dir)
    edit_rows = [r for r in recorded if r["set"] == "edit"]
    base_preds = predict(meta["task"], model, tok, [inputs[r["id"]] for r in edit_rows], meta["max_length"])
    assert any(b != {k: v for k, v in r.items() if k not in ("id", "set")} for b, r in zip(base_preds, edit_rows))

    # The applied directory is a plain checkpoint: transformers alone (fresh process, AutoModelFor... and
    # AutoTokenizer) gives the patched model's logits on the fold's edits and test examples, not the base's.
    from editlab.patchfile import load_patched

    kind = "classifier" if meta["task"] == "fever" else "seq2seq"
    fresh = fresh_transformers_logits(tmp / "patched", kind, [inputs[r["id"]] for r in recorded], tmp)
    patched = load_patched(tmp / "patched")
    assert fresh["class"] == type(patched.model).__name__
    with patched.hooks():
        err = max_diff(patched.model, fresh["batch"], fresh["logits"])
    # the same model in memory with the neurons as FFN units (what the checkpoint holds): same arithmetic
    from editlab.export import widened_model

    err_units = max_diff(widened_model(patched.model, patched.site), fresh["batch"], fresh["logits"])
    base_err = max_diff(model, fresh["batch"], fresh["logits"])
    # Units and hooks sum the FFN output in another order: float rounding, amplified by large neuron outputs.
    if hooks_atol is None:
        from editlab.export import EXPORT_ATOL

        hooks_atol = EXPORT_ATOL * max(1.0, float(fresh["logits"].abs().max()))
    assert err <= hooks_atol and err_units <= 1e-5 and base_err > 1e-3
    print(f"fresh-process checkpoint vs patched model ({meta['task']}, {type(model).__name__}): max |logit "
          f"difference| {err:.3g} (hooks), {err_units:.3g} (neurons as units); base model {base_err:.3g}; "
          f"max |logit| {float(fresh['logits'].abs().max()):.3g}")

    proc = editlab_cli("patch", "revert", str(tmp / "patched"), "--out", str(tmp / "reverted"))
    assert proc.returncode == 0, proc.stderr
    base_files = sorted(p.name for p in base_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    assert sorted(p.name for p in (tmp / "reverted").iterdir()) == base_files
    for name in base_files:
        assert sha256(tmp / "reverted" / name) == sha256(base_dir / name), name
    assert sha256(tmp / "reverted" / "model.safetensors") == meta["base_model"]["weights_sha256"]
    return meta


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_export_apply_predict_revert(tmp_path, task):
    files = _write_world(tmp_path, task)
    run_stream(task, "tpatcher", _config(), files, tmp_path / "fold", "fold0")
    edits = read_rows(tmp_path / "fold" / "edits.jsonl")
    inputs = {json.loads(line)["id"]: json.loads(line)["input"]
              for line in Path(files["train_data"]).read_text().splitlines()}
    meta = check_round_trip(tmp_path, tmp_path / "fold", Path(files["base_model"]), inputs)
    summary = json.loads((tmp_path / "fold" / "summary.json").read_text())
    assert meta["n_neurons"] == summary["n_patches"] == sum(e["n_neurons"] for e in edits)
    edited = [e for e in edits if e["was_error"]]
    # every neuron names the edit it came from: its stream index and id as in edits.jsonl
    for neuron in meta["neurons"]:
        assert edited[neuron["edit"]]["index"] == neuron["index"] and edited[neuron["edit"]]["id"] == neuron["id"]
    assert [n["edit"] for n in meta["neurons"]] == sorted(n["edit"] for n in meta["neurons"])
    proc = editlab_cli("patch", "inspect", str(tmp_path / "fold" / "patches.safetensors"))
    assert proc.returncode == 0 and f"neurons      {meta['n_neurons']} " in proc.stdout
    check_reader_gone_is_quiet("patch", "inspect", str(tmp_path / "fold" / "patches.safetensors"))


def check_reader_gone_is_quiet(*args: str) -> None:
    """`editlab ... | head`: a reader that closes the pipe (here before the first line) stops the command with
    SIGPIPE's exit status 141 and nothing on stderr (no 'error: ?: Broken pipe', no exit-time traceback)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "editlab.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141 and stderr == "", (proc.returncode, stderr)


def _fold(tmp_path):
    files = _write_world(tmp_path, "fever")
    run_stream("fever", "tpatcher", _config(), files, tmp_path / "fold", "fold0")
    return Path(files["base_model"]), tmp_path / "fold"


def one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("editlab: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_bad_patch_files_are_refused(tmp_path):
    base, fold = _fold(tmp_path)
    tensors = fold / "patches.safetensors"
    good = tensors.read_bytes()
    # the documented ways of naming a patch: its directory, its patches.json, its patches.safetensors
    shown = [editlab_cli("patch", "inspect", str(path)) for path in (fold, fold / "patches.json", tensors)]
    assert all(proc.returncode == 0 for proc in shown), [proc.stderr for proc in shown]
    assert len({proc.stdout.split("\n", 1)[1] for proc in shown}) == 1   # the same patch (line 1 names the argument)
    # a path that does not exist is refused naming it as typed, not read as the patches.json beside it
    one_line_error(editlab_cli("patch", "inspect", str(fold / "nothere.safetensors")),
                   f"{fold / 'nothere.safetensors'}: file not found")
    proc = editlab_cli("patch", "inspect", "nonexist.safetensors", cwd=tmp_path)
    one_line_error(proc)
    assert proc.stderr.strip() == "editlab: error: nonexist.safetensors: file not found"
    # tensors saved under another name are not swapped for the patches.safetensors beside them
    renamed = fold / "patchB.safetensors"
    renamed.write_bytes(good)
    for action in (("inspect", str(renamed)), ("apply", str(base), str(renamed), "--out", str(tmp_path / "out"))):
        one_line_error(editlab_cli("patch", *action), f"{renamed}: ", "patches.safetensors")
    assert not (tmp_path / "out").exists()
    renamed.unlink()
    # tensors without the patches.json that describes them
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "patches.safetensors").write_bytes(good)
    one_line_error(editlab_cli("patch", "inspect", str(lone / "patches.safetensors")),
                   f"{lone / 'patches.json'}: patch metadata not found")
    # truncated tensors: the recorded sha256 no longer matches
    tensors.write_bytes(good[: len(good) // 2])
    proc = editlab_cli("patch", "apply", str(base), str(tensors), "--out", str(tmp_path / "out"))
    one_line_error(proc, "patches.safetensors", "sha256 does not match")
    assert not (tmp_path / "out").exists()
    # missing tensors next to the metadata
    tensors.unlink()
    one_line_error(editlab_cli("patch", "inspect", str(fold / "patches.json")), "patch tensors not found")
    tensors.write_bytes(good)
    # metadata that is not JSON
    meta_text = (fold / "patches.json").read_text()
    (fold / "patches.json").write_text(meta_text[:30])
    one_line_error(editlab_cli("patch", "inspect", str(tensors)), "patches.json", "invalid JSON")
    (fold / "patches.json").write_text(meta_text)
    # a base model that is not the one the patch was made on
    other = tmp_path / "other"
    other.mkdir()
    for item in base.iterdir():
        (other / item.name).write_bytes(item.read_bytes())
    from safetensors.torch import load_file, save_file

    weights = load_file(str(other / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = weights[name] + 1e-3
    save_file(weights, str(other / "model.safetensors"), metadata={"format": "pt"})
    proc = editlab_cli("patch", "apply", str(other), str(tensors), "--out", str(tmp_path / "out"))
    one_line_error(proc, str(other), "does not match the patch")
    assert not (tmp_path / "out").exists()
    # a patched directory whose weights were changed after apply cannot be "reverted" silently
    assert editlab_cli("patch", "apply", str(base), str(tensors), "--out", str(tmp_path / "patched")).returncode == 0
    # predict on an empty inputs file (or blank lines only): refused as the readers refuse one, nothing written
    for content in ("", "\n  \n\n"):
        (tmp_path / "empty.jsonl").write_text(content)
        proc = editlab_cli("patch", "predict", str(tmp_path / "patched"), str(tmp_path / "empty.jsonl"),
                           "--out", str(tmp_path / "p"))
        one_line_error(proc, f"{tmp_path / 'empty.jsonl'}: no records")
        assert not (tmp_path / "p").exists()
    (tmp_path / "patched" / "base_model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    proc = editlab_cli("patch", "revert", str(tmp_path / "patched"), "--out", str(tmp_path / "reverted"))
    one_line_error(proc, "base_model.safetensors", "is not the base model")
    assert not (tmp_path / "reverted").exists()
    # an applied directory is not a base model, even for a patch that names its weights
    chained = tmp_path / "chained"
    chained.mkdir()
    (chained / "patches.safetensors").write_bytes(tensors.read_bytes())
    meta = json.loads(meta_text)
    meta["base_model"]["weights_sha256"] = sha256(tmp_path / "patched" / "model.safetensors")
    (chained / "patches.json").write_text(json.dumps(meta))
    proc = editlab_cli("patch", "apply", str(tmp_path / "patched"), str(chained), "--out", str(tmp_path / "out"))
    one_line_error(proc, "holds base_model.safetensors, so it is a patched directory")
    assert not (tmp_path / "out").exists()
    # a directory in the old layout (base files + patch files, no apply record) is not taken for an applied one
    (tmp_path / "patched" / "editlab_apply.json").unlink()
    (tmp_path / "in.jsonl").write_text('{"id": "a", "input": "x"}\n')
    for action in (("revert", str(tmp_path / "patched"), "--out", str(tmp_path / "reverted")),
                   ("predict", str(tmp_path / "patched"), str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "p"))):
        one_line_error(editlab_cli("patch", *action), "no editlab_apply.json", "apply the patch to the base again")
    assert not (tmp_path / "reverted").exists() and not (tmp_path / "p").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("workflow")
def test_ci_fold_patches_round_trip(ci_finished, tmp_path):
    """Real snakemake ci fold jobs write the patch files; apply in a fresh process reproduces the fold.
    The fold jobs are those of the session's shared run of the whole ci workflow (conftest.ci_finished)."""
    work = ci_finished   # read only: the round trip writes under tmp_path
    sizes = {}
    for task in ("fever", "zsre"):
        from editlab.data.readers import read_task_file

        data_dir = work / f"results/ci/data/{task}"
        inputs = {e.id: e.input for f in sorted(data_dir.glob("*.jsonl")) for e in read_task_file(task, f)}
        fold = work / f"results/ci/sme/{task}/tpatcher/fold0"
        meta = check_round_trip(tmp_path / task, fold, work / f"results/ci/base/{task}/model", inputs,
                                hooks_atol=None)
        summary = json.loads((fold / "summary.json").read_text())
        assert meta["n_neurons"] == summary["n_patches"] > 0
        sizes[task] = {"n_neurons": meta["n_neurons"], "n_edits": summary["n_edits"],
                       "patch_bytes": (fold / "patches.safetensors").stat().st_size,
                       "base_bytes": meta["base_model"]["weights_bytes"]}
    print("patch sizes", json.dumps(sizes))


def test_rank_one_edits_export_apply_revert(tmp_path):
    """Two sequential ROME edits of a tiny Marian: the patch applied in a fresh process gives the edited
    weights bit for bit (and the same logits); revert gives the base file back."""
    from rome_fixtures import SPECIALS
    from safetensors.torch import load_file
    from test_rome_update import _setup

    from editlab.patchfile import export_rank_one
    from editlab.rome.batches import Seq2SeqIds, forward_logits, make_batch
    from editlab.rome.compute import EditIds
    from editlab.rome.editor import apply_rome

    model, hp, locus, stats, edit = _setup("encoder", 1, "rome")
    base_dir = tmp_path / "base"
    model.save_pretrained(base_dir)
    first = apply_rome(model, edit, hp, stats, SPECIALS)
    second_edit = EditIds(Seq2SeqIds(edit.pair.source, [14, 15, 1]), edit.position, edit.contexts, edit.essence)
    second = apply_rome(model, second_edit, hp, stats, SPECIALS)
    assert first.applied and second.applied
    export_rank_one(tmp_path / "patch", base_dir, [first, second], ["req-a", "req-b"])

    proc = editlab_cli("patch", "inspect", str(tmp_path / "patch" / "patches.safetensors"))
    assert proc.returncode == 0 and "request req-b" in proc.stdout and locus.name in proc.stdout, proc.stderr
    proc = editlab_cli("patch", "apply", str(base_dir), str(tmp_path / "patch" / "patches.json"),
                       "--out", str(tmp_path / "patched"))
    assert proc.returncode == 0, proc.stderr
    batch = make_batch([edit.pair, second_edit.pair], SPECIALS)
    torch.save(batch, tmp_path / "batch.pt")
    code = ("import sys, torch\nfrom safetensors.torch import save_file\n"
            "from editlab.patchfile import load_rank_one_patched\nfrom editlab.rome.batches import forward_logits\n"
            "torch.set_num_threads(1)\n"
            "m = load_rank_one_patched(sys.argv[1])\n"
            "b = torch.load(sys.argv[2])\n"
            "save_file({k: v.clone() for k, v in m.state_dict().items()} | "   # clone: tied embeddings
            "{'logits': forward_logits(m, b).contiguous()}, sys.argv[3])\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "patched"), str(tmp_path / "batch.pt"),
                           str(tmp_path / "fresh.safetensors")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    fresh = load_file(str(tmp_path / "fresh.safetensors"))
    state = model.state_dict()
    for key, value in fresh.items():
        if key != "logits":
            assert torch.equal(value, state[key]), key
    assert not torch.equal(state[f"{locus.name}.weight"], load_file(str(base_dir / "model.safetensors"))[
        f"{locus.name}.weight"])
    with torch.no_grad():
        assert torch.equal(fresh["logits"], forward_logits(model, batch))
    # teacher-forced on the edit targets (decoder start 0), where the edits move the logits
    check_plain_rank_one_checkpoint(tmp_path, base_dir, model, {"source": [edit.pair.source] * 2,
                                                                "decoder": [[0, 9, 10, 11], [0, 14, 15, 1]]})


def check_plain_rank_one_checkpoint(tmp_path: Path, base_dir: Path, edited, inputs: list | dict) -> None:
    """The applied directory loads with transformers alone (fresh process) as the edited model, not the base;
    revert gives every base file back (sha256)."""
    from transformers import AutoModelForSeq2SeqLM

    check_applied_layout(tmp_path / "patched", base_dir)
    fresh = fresh_transformers_logits(tmp_path / "patched", "seq2seq", inputs, tmp_path)
    assert fresh["class"] == type(edited).__name__
    err = max_diff(edited, fresh["batch"], fresh["logits"])
    base_err = max_diff(AutoModelForSeq2SeqLM.from_pretrained(base_dir), fresh["batch"], fresh["logits"])
    # (the tiny random Marian's logits barely depend on its encoder: its edits move them by ~5e-5 only)
    assert err <= 1e-5 < base_err
    print(f"fresh-process checkpoint vs edited model (rank-one, {type(edited).__name__}): "
          f"max |logit difference| {err:.3g} (base model: {base_err:.3g})")
    # the checkpoint file holds the edited weights bit for bit, and the edited module differs from the base's
    from safetensors.torch import load_file

    written, base = load_file(str(tmp_path / "patched/model.safetensors")), load_file(str(base_dir / "model.safetensors"))
    state = edited.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in written.items())
    assert any(not torch.equal(v, base[k]) for k, v in written.items())
    proc = editlab_cli("patch", "revert", str(tmp_path / "patched"), "--out", str(tmp_path / "reverted"))
    assert proc.returncode == 0, proc.stderr
    base_files = sorted(p.name for p in base_dir.iterdir())
    assert sorted(p.name for p in (tmp_path / "reverted").iterdir()) == base_files
    for name in base_files:
        assert sha256(tmp_path / "reverted" / name) == sha256(base_dir / name), name


def test_rank_one_patch_on_a_bart_with_its_tokenizer(tmp_path):
    """One ROME edit of a tiny BART saved with its tokenizer: the applied directory loads with
    AutoModelForSeq2SeqLM + AutoTokenizer (fresh process) as the edited model."""
    from editlab.nmt.tokenizer import HubTokenizer
    from editlab.patchfile import export_rank_one, load_rank_one_patched
    from editlab.rome.batches import Seq2SeqIds
    from editlab.rome.compute import EditIds
    from editlab.rome.editor import apply_rome
    from editlab.rome.hparams import RomeHyperParams
    from editlab.rome.locate import locate_ffn_output
    from editlab.rome.stats import second_moment
    from editlab.tiny_models import CITIES, NAMES, bart_tokenizer, build, question

    tokenizer = bart_tokenizer()
    torch.manual_seed(0)
    model = build("bart", len(tokenizer)).eval()
    base_dir = tmp_path / "base"
    model.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    tok = HubTokenizer(tokenizer, int(model.config.decoder_start_token_id))
    hp = RomeHyperParams(side="decoder", layer=0, key_mode="rome", v_num_grad_steps=5, mom2_ridge=0.01)
    corpus = [Seq2SeqIds(tok.encode_source(question(n)), tok.encode_target(CITIES[i % len(CITIES)]))
              for i, n in enumerate(NAMES)]
    stats = second_moment(model, locate_ffn_output(model, "decoder", 0), corpus, tok.specials)
    pair = Seq2SeqIds(tok.encode_source(question("ana")), tok.encode_target("oslo"))
    result = apply_rome(model, EditIds(pair, 1, [(Seq2SeqIds(tok.encode_source(f"ben {question('ana')}"),
                                                             pair.target), 1)]), hp, stats, tok.specials)
    assert result.applied
    export_rank_one(tmp_path / "patch", base_dir, [result], ["ana"])
    proc = editlab_cli("patch", "apply", str(base_dir), str(tmp_path / "patch"), "--out", str(tmp_path / "patched"))
    assert proc.returncode == 0, proc.stderr
    loaded = load_rank_one_patched(tmp_path / "patched")
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())
    check_plain_rank_one_checkpoint(tmp_path, base_dir, model, [question("ana"), question("ben"), "ana lives in rome"])
