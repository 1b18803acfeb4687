"""Bad-input probe of issue 17: run each bad input against a library and print one row per case.

    python tests/probe_bad_inputs.py SRC_DIR WORK_DIR      # e.g. src, or an older checkout's src

Each case runs in a fresh process with SRC_DIR first on PYTHONPATH (so the same script measures the code
before and after a change). A row: exit status, stderr lines, whether a Traceback appeared, the last
stderr line, and a check of what must survive. The full-disk rows mount a 64 KiB tmpfs (root only; they
are left out otherwise). Not a test (pytest does not collect it): the tests are in test_bad_inputs.py and
test_io_faults.py; this is the before/after comparison behind docs/bad_inputs.md rows 31-51.
"""
# ruff: noqa: E501  (one case per line: a table of probes reads better than wrapped calls)
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = str(Path(sys.argv[1]).resolve())
TESTS = str(Path(__file__).resolve().parent)
PY = sys.executable
WORK = Path(sys.argv[2]).resolve()
shutil.rmtree(WORK, ignore_errors=True)
WORK.mkdir(parents=True)
FX = WORK / "fixture"
ENV = dict(os.environ, PYTHONPATH=SRC + os.pathsep + TESTS, OMP_NUM_THREADS="1", TRANSFORMERS_VERBOSITY="error",
           HF_HUB_OFFLINE="1")


def run(args, cwd=None):
    p = subprocess.run(args, capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)
    err = [ln for ln in p.stderr.strip().splitlines() if ln.strip() and "it/s]" not in ln and "Loading weights" not in ln]
    return p.returncode, err


def cli(*a):
    return run([PY, "-m", "editlab.cli", *map(str, a)])


def py(code):
    code = "import sys\nfrom editlab.errors import EditlabError\ntry:\n" + textwrap.indent(textwrap.dedent(code), "    ") + \
        "\nexcept EditlabError as exc:\n    print(f'editlab: error: {exc}', file=sys.stderr); sys.exit(1)\n"
    return run([PY, "-c", code])


def case(n):
    d = WORK / n
    d.mkdir()
    return d


def fold_copy(d):
    shutil.copytree(FX / "fold", d / "fold")
    shutil.copytree(FX / "model", d / "model")
    return d / "fold", d / "model"


rows = []
# the fixture world of the tests and one finished T-Patcher fold, made by the library under test
subprocess.run([PY, "-c", "import sys; from pathlib import Path; from test_sme import _config, _write_world; "
                "from editlab.sme.runner import run_stream; root = Path(sys.argv[1]); root.mkdir(); "
                "files = _write_world(root, 'fever'); run_stream('fever', 'tpatcher', _config(), files, root / 'fold', 'fold0')",
                str(FX)], env=ENV, check=True, capture_output=True)


def report(name, res, check=""):
    rc, err = res
    tb = any("Traceback" in ln for ln in err)
    rows.append((name, rc, len(err), tb, (err[-1] if err else "")[:150], check))


# -- patch CLI -----------------------------------------------------------------------------------
d = case("apply_out_nonempty")
fold, model = fold_copy(d)
(d / "mine").mkdir()
(d / "mine" / "thesis.tex").write_text("precious")
r = cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "mine")
report("apply --out non-empty user dir", r, f"thesis.tex kept: {(d / 'mine' / 'thesis.tex').exists()}")

d = case("apply_out_fold")
fold, model = fold_copy(d)
before = sorted(p.name for p in fold.iterdir())
r = cli("patch", "apply", model, fold / "patches.safetensors", "--out", fold)
report("apply --out = the fold dir", r, f"edits.jsonl kept: {(fold / 'edits.jsonl').exists()}")

d = case("apply_out_fold_force")
fold, model = fold_copy(d)
r = cli("patch", "apply", model, fold / "patches.safetensors", "--out", fold, "--force")
report("apply --out = the fold dir --force", r, f"edits.jsonl kept: {(fold / 'edits.jsonl').exists()}")

d = case("apply_force")
fold, model = fold_copy(d)
(d / "mine").mkdir()
(d / "mine" / "old.txt").write_text("x")
r = cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "mine", "--force")
report("apply --out non-empty --force (replaces)", r, f"patched: {(d / 'mine' / 'patches.json').exists()}, old gone: {not (d / 'mine' / 'old.txt').exists()}")

d = case("revert_out_nonempty")
fold, model = fold_copy(d)
cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "patched")
(d / "mine").mkdir()
(d / "mine" / "notes.txt").write_text("precious")
r = cli("patch", "revert", d / "patched", "--out", d / "mine")
report("revert --out non-empty dir", r, f"notes.txt kept: {(d / 'mine' / 'notes.txt').exists()}")

d = case("apply_out_file")
fold, model = fold_copy(d)
(d / "f.txt").write_text("x")
report("apply --out an existing file", cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "f.txt"),
       f"file kept: {(d / 'f.txt').read_text() == 'x'}")

d = case("patch_is_dir")
fold, model = fold_copy(d)
(d / "empty").mkdir()
report("patch argument a directory (no patches.json)", cli("patch", "inspect", d / "empty"))
report("patch argument the fold directory", cli("patch", "inspect", fold))

d = case("patch_json_latin1")
fold, model = fold_copy(d)
meta = json.loads((fold / "patches.json").read_text())
meta["task"] = "févér"
(fold / "patches.json").write_bytes(json.dumps(meta, ensure_ascii=False).encode("latin-1"))
report("patches.json not UTF-8", cli("patch", "inspect", fold / "patches.json"))

d = case("n_neurons")
fold, model = fold_copy(d)
meta = json.loads((fold / "patches.json").read_text())
meta["n_neurons"] = "eleven"
(fold / "patches.json").write_text(json.dumps(meta))
report("patches.json n_neurons not a number", cli("patch", "inspect", fold / "patches.json"))

d = case("neurons_type")
fold, model = fold_copy(d)
meta = json.loads((fold / "patches.json").read_text())
meta["neurons"] = {"0": 1}
(fold / "patches.json").write_text(json.dumps(meta))
report("patches.json neurons not a list", cli("patch", "inspect", fold / "patches.json"))

d = case("meta_list")
fold, model = fold_copy(d)
meta = json.loads((fold / "patches.json").read_text())
meta["base_model"] = "abc"
(fold / "patches.json").write_text(json.dumps(meta))
report("patches.json base_model a string", cli("patch", "inspect", fold / "patches.json"))

d = case("base_is_file")
fold, model = fold_copy(d)
report("apply base_dir is a file", cli("patch", "apply", fold / "edits.jsonl", fold / "patches.safetensors", "--out", d / "o"))

d = case("base_config_list")
fold, model = fold_copy(d)
(model / "config.json").write_text("[1, 2]")
report("apply base config.json not an object", cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "o"))

d = case("base_config_latin1")
fold, model = fold_copy(d)
(model / "config.json").write_bytes(b'{"model_type": "b\xe9rt"}')
report("apply base config.json not UTF-8", cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "o"))

d = case("predict_out_dir")
fold, model = fold_copy(d)
cli("patch", "apply", model, fold / "patches.safetensors", "--out", d / "patched")
(d / "in.jsonl").write_text('{"id": "a", "input": "x"}\n')
(d / "odir").mkdir()
report("predict --out an existing directory", cli("patch", "predict", d / "patched", d / "in.jsonl", "--out", d / "odir"))
(d / "in2.jsonl").write_bytes(b'{"id": "a", "input": "\xff"}\n')
report("predict inputs not UTF-8", cli("patch", "predict", d / "patched", d / "in2.jsonl", "--out", d / "p.jsonl"))
report("predict inputs a directory", cli("patch", "predict", d / "patched", d / "odir", "--out", d / "p.jsonl"))
report("predict model_dir missing", cli("patch", "predict", d / "nope", d / "in.jsonl", "--out", d / "p.jsonl"))
report("revert patched_dir without patches.json", cli("patch", "revert", model, "--out", d / "r"))

# -- data readers --------------------------------------------------------------------------------
d = case("data")
good = (FX / "train.jsonl").read_text().splitlines()
rec = json.loads(good[3])
rec["input"] = "caf\u00e9 claim"
latin = "\n".join(good[:3] + [json.dumps(rec, ensure_ascii=False)] + good[4:]) + "\n"
(d / "latin1.jsonl").write_bytes(latin.encode("latin-1"))
report("data file latin-1 (not UTF-8)", py(f"from editlab.data.readers import read_task_file\nread_task_file('fever', {str(d / 'latin1.jsonl')!r})"))
(d / "empty.jsonl").write_text("")
report("data file empty", py(f"from editlab.data.readers import read_task_file\nprint(len(read_task_file('fever', {str(d / 'empty.jsonl')!r})))"))
(d / "blank.jsonl").write_text("\n\n")
report("data file only blank lines", py(f"from editlab.data.readers import read_task_file\nprint(len(read_task_file('fever', {str(d / 'blank.jsonl')!r})))"))
for label, idv in (("id with trailing space", "f1 "), ("empty id", ""), ("id with a newline", "f1\nx"), ("id true (bool)", True)):
    recs = [json.loads(line) for line in good]
    recs[2]["id"] = idv
    p = d / f"id{len(rows)}.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    report(f"data: {label}", py(f"from editlab.data.readers import read_task_file\nprint([e.id for e in read_task_file('fever', {str(p)!r})][:4])"))
report("data file is a directory", py(f"from editlab.data.readers import read_task_file\nread_task_file('fever', {str(d)!r})"))
(d / "mend_empty.json").write_text("[]")
report("MEND file an empty list", py(f"from editlab.data.readers import read_mend_zsre\nprint(len(read_mend_zsre({str(d / 'mend_empty.json')!r})))"))
(d / "mend_bad.json").write_bytes(b'[{"src": "\xe9"}]')
report("MEND file not UTF-8", py(f"from editlab.data.readers import read_mend_zsre\nread_mend_zsre({str(d / 'mend_bad.json')!r})"))

# -- id lists ------------------------------------------------------------------------------------
for label, content in (("id list: id with surrounding spaces", b"f1\n f2 \n"), ("id list: blank line", b"f1\n\nf2\n"),
                       ("id list: CRLF", b"f1\r\nf2\r\n"), ("id list: not UTF-8", b"f1\n\xe9\n")):
    p = d / f"ids{len(rows)}.txt"
    p.write_bytes(content)
    report(label, py(f"from editlab.io import read_ids\nprint(read_ids({str(p)!r}))"))
report("id list is a directory", py(f"from editlab.io import read_ids\nread_ids({str(d)!r})"))

# -- JSON outputs read back ----------------------------------------------------------------------
(d / "summary.json").mkdir()
report("summary.json is a directory", py(f"from editlab.results.fold_outputs import read_summary\nread_summary({str(d / 'summary.json')!r})"))
(d / "s2.json").write_bytes(b'{"SR": "\xe9"}')
report("summary.json not UTF-8", py(f"from editlab.results.fold_outputs import read_summary\nread_summary({str(d / 's2.json')!r})"))
(d / "edits.jsonl").write_bytes(b'{"index": 0, "id": "\xe9"}\n')
report("edits.jsonl not UTF-8", py(f"from editlab.results.fold_outputs import read_edits\nread_edits({str(d / 'edits.jsonl')!r})"))

# -- writers -------------------------------------------------------------------------------------
(d / "afile").write_text("x")
report("write under a path whose parent is a file", py(f"from editlab.io import write_json\nwrite_json({str(d / 'afile' / 'x.json')!r}, {{}})"))
(d / "adir.json").mkdir()
report("write_json onto a directory", py(f"from editlab.io import write_json\nwrite_json({str(d / 'adir.json')!r}, {{}})"))
report("atomic_dir onto a file", py(f"from editlab.io import atomic_dir\nwith atomic_dir({str(d / 'afile')!r}) as t:\n    (t / 'a').write_text('a')"))
ro = d / "ro"
ro.mkdir()
enospc = ("import errno, builtins\nimport editlab.io as eio\nreal = eio.os.fsync\n"
          "def full(fd):\n    raise OSError(errno.ENOSPC, 'No space left on device')\neio.os.fsync = full\n")
report("full disk (ENOSPC at fsync) in write_json", py(enospc + f"from editlab.io import write_json\nwrite_json({str(d / 'full.json')!r}, {{'a': 1}})"))

# real tiny tmpfs (root): a torch checkpoint that does not fit, and a model save that does not fit
mnt = WORK / "tmpfs"
mnt.mkdir()
if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]).returncode == 0:
    try:
        code = (f"import torch\nfrom editlab.sme.resume import save_checkpoint\nfrom editlab.sme.state import StreamState\n"
                f"class E:\n    def snapshot(self):\n        return {{'w': torch.zeros(%d)}}\n"
                f"save_checkpoint({str(mnt / '.resume.pt')!r}, 'fp', StreamState(), E(), 'cpu')\n")
        run([PY, "-c", code % 100])
        ok_size = (mnt / ".resume.pt").stat().st_size
        report("full disk (tmpfs 64k) during a checkpoint save", py(code % 100000),
               f"old checkpoint intact: {(mnt / '.resume.pt').stat().st_size == ok_size}, leftovers: {sorted(p.name for p in mnt.iterdir() if p.name != '.resume.pt')}")
        code = ("from editlab.models.build import save_base_model\nfrom editlab.models.tokenizer import train_bert_tokenizer\n"
                "from editlab.models.build import tiny_bert\nfrom editlab.io import atomic_dir\n"
                "tok = train_bert_tokenizer(['a b c d'])\nm = tiny_bert({'hidden_size': 64, 'layers': 2, 'heads': 2, 'intermediate_size': 256}, len(tok))\n"
                f"with atomic_dir({str(mnt / 'model')!r}) as tmp:\n    save_base_model(m, tok, tmp)\n")
        report("full disk (tmpfs 64k) during a model save", py(code), f"leftovers: {sorted(p.name for p in mnt.iterdir() if p.name not in ('.resume.pt',))}")
    finally:
        subprocess.run(["umount", str(mnt)])

# -- model directories ---------------------------------------------------------------------------
d = case("models")
fold, model = fold_copy(d)
m2 = d / "noweights"
shutil.copytree(model, m2)
(m2 / "model.safetensors").unlink()
report("model dir without model.safetensors", py(f"from editlab.models.build import load_base_model\nload_base_model('fever', {str(m2)!r})"))
m3 = d / "trunc"
shutil.copytree(model, m3)
b = (m3 / "model.safetensors").read_bytes()
(m3 / "model.safetensors").write_bytes(b[:len(b) // 2])
report("model dir with truncated weights", py(f"from editlab.models.build import load_base_model\nload_base_model('fever', {str(m3)!r})"))
m4 = d / "badcfg"
shutil.copytree(model, m4)
(m4 / "config.json").write_text("{not json")
report("model dir with config.json not JSON", py(f"from editlab.models.build import load_base_model\nload_base_model('fever', {str(m4)!r})"))
m5 = d / "notok"
shutil.copytree(model, m5)
for f in m5.iterdir():
    if "tok" in f.name or f.name in ("vocab.txt", "special_tokens_map.json"):
        f.unlink()
report("model dir without tokenizer files", py(f"from editlab.models.build import load_base_model\nload_base_model('fever', {str(m5)!r})"))

# -- SME -------------------------------------------------------------------------------------------
d = case("sme")
code = ("import json\nfrom test_sme import _config, _write_world\nfrom editlab.sme.runner import run_stream\nfrom pathlib import Path\n"
        f"root = Path({str(d)!r})\nfiles = _write_world(root, 'fever')\n(root / 'memory.txt').write_text('')\n"
        "s = run_stream('fever', 'tpatcher', _config(), files, root / 'out', 'fold0')\nprint('TrainR', s['TrainR'])\n")
report("splits memory_size 0 with T-Patcher (empty memory list)", py(code), f"summary written: {(d / 'out' / 'summary.json').exists()}")

d = case("leftovers")
code = ("import json\nfrom test_sme import _config, _write_world\nfrom editlab.sme.runner import run_stream\nfrom pathlib import Path\n"
        f"root = Path({str(d)!r})\nfiles = _write_world(root, 'fever')\n(root / 'out').mkdir()\n"
        "(root / 'out' / '..resume.pt.abcd1234.tmp').write_bytes(b'x' * 1000)\n"
        "run_stream('fever', 'ft', _config(), files, root / 'out', 'fold0')\n")
r = py(code)
report("leftover ..resume.pt.XXXX.tmp of a killed checkpoint write, rerun", r,
       f"leftover after rerun: {(d / 'out' / '..resume.pt.abcd1234.tmp').exists()}")

print(f"{'case':58} rc lines tb  last stderr line | check")
for name, rc, n, tb, last, check in rows:
    print(f"{name:58} {rc:2} {n:4} {'TB' if tb else '--'}  {last} | {check}")
