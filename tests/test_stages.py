"""Stages declared by the library (editlab.stages): computed code dependencies, one-line scripts, the
layout, and the stage inputs of the Cao ingest."""

from __future__ import annotations

import ast
import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow, run_snakemake
from data_fixtures import fever_record, write_jsonl, zsre_record

from editlab.layout import CAO_FILES, Layout
from editlab.stages import STAGES, stage_code, stage_modules
from editlab.stages.codedeps import SourceTree

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"
SCRIPTS = REPO / "workflow" / "scripts"


# --- the import closure and its digest, on a package of our own --------------------------------------

def write_package(root: Path) -> None:
    files = {
        "pkg/__init__.py": '"""Top package."""\n',
        "pkg/entry.py": "from pkg.sub import helper\n\n\ndef run():\n    from .lazy import late  # function-local\n"
                        "    return helper() + late()\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/helper.py": '"""Doc."""\nimport os\n\nfrom pkg import leaf\n\n\ndef helper():\n    """Doc."""\n'
                             "    return leaf.VALUE\n",
        "pkg/lazy.py": "from . import leaf\n\n\ndef late():\n    return leaf.VALUE\n",
        "pkg/leaf.py": "VALUE = 1  # a comment\n",
        "pkg/unused.py": "VALUE = 2\n",
    }
    files["pkg/sub/__init__.py"] = "from pkg.sub.helper import helper  # noqa\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_closure_follows_every_import_and_the_digest_ignores_comments_and_docstrings(tmp_path):
    write_package(tmp_path)
    closure = SourceTree(tmp_path, top="pkg").closure(["pkg.entry"])
    assert closure == ["pkg", "pkg.entry", "pkg.lazy", "pkg.leaf", "pkg.sub", "pkg.sub.helper"]

    def digest() -> str:
        tree = SourceTree(tmp_path, top="pkg")  # a fresh tree: it parses each file once
        return tree.digest(tree.closure(["pkg.entry"]))

    before = digest()
    helper = tmp_path / "pkg/sub/helper.py"
    helper.write_text(helper.read_text().replace('"""Doc."""', '"""Another docstring,\n\nlonger."""')
                      .replace("import os", "import os  # why: nothing") + "\n# trailing comment\n")
    (tmp_path / "pkg/unused.py").write_text("VALUE = 3\n")   # not imported: no effect
    assert digest() == before
    leaf = tmp_path / "pkg/leaf.py"
    leaf.write_text("VALUE = 2  # a comment\n")               # a real change, two imports away, lazily
    assert digest() != before


def test_a_missing_entry_module_is_a_clear_error(tmp_path):
    write_package(tmp_path)
    from editlab.errors import EditlabError

    with pytest.raises(EditlabError, match="entry module pkg.absent is not in"):
        SourceTree(tmp_path, top="pkg").closure(["pkg.absent"])


def test_data_readers_belongs_exactly_to_the_stages_that_read_data():
    readers = sorted(n for n in STAGES if "editlab.data.readers" in stage_modules(n))
    # backtranslate: the KILT zsRE question (readers.kilt_zsre_question)
    assert readers == ["backtranslate", "base_model", "edit_speed", "ingest_cao", "sme_stream", "splits"]
    # the job wrapper is part of every stage
    assert all({"editlab.stages", "editlab.stages.job", "editlab.gpu", "editlab.runtime"} <= set(stage_modules(n))
               for n in STAGES)


# --- the rules ------------------------------------------------------------------------------------------

def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every rule file (a `use rule ... as X with:` block counts as X)."""
    blocks = {}
    for path in sorted(RULES.glob("*.smk")):
        text = path.read_text()
        heads = list(re.finditer(r"^ *(?:rule (\w+):|use rule \w+ as (\w+) with:)", text, flags=re.M))
        for head, nxt in zip(heads, heads[1:] + [None]):
            blocks[head.group(1) or head.group(2)] = text[head.start(): nxt.start() if nxt else len(text)]
    return blocks


def script_stage(script: Path) -> str:
    """The stage a workflow script runs; it must be exactly `run_stage("<name>", snakemake)`."""
    body = ast.parse(script.read_text()).body
    assert len(body) == 3, f"{script.name} is more than a docstring, an import and run_stage(...)"
    doc, imp, call = body
    assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
    assert isinstance(imp, ast.ImportFrom) and imp.module == "editlab.stages" and imp.names[0].name == "run_stage"
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call) and call.value.func.id == "run_stage"
    name, smk = call.value.args
    assert smk.id == "snakemake"
    return name.value


def test_every_rule_declares_the_code_of_the_stage_its_script_runs():
    blocks = rule_blocks()
    assert len(blocks) > 25
    for name, text in blocks.items():
        assert "library(" not in text and "src/editlab" not in text, f"rule {name} lists code files by hand"
        if name == "all":
            continue
        scripts = re.findall(r'"\.\./scripts/(\w+)\.py"', text)
        codes = re.findall(r'code=STAGE_CODE\("(\w+)"\)', text)
        if text.lstrip().startswith("use rule"):    # inherits script and params
            assert not scripts and not codes, name
            continue
        assert len(scripts) == 1 and len(codes) == 1, f"rule {name}: one script and one params.code"
        assert script_stage(SCRIPTS / f"{scripts[0]}.py") == codes[0], f"rule {name}"
    used = {script_stage(p) for p in SCRIPTS.glob("*.py")}
    assert used == set(STAGES), "a stage without a script, or a script of an unknown stage"


def record_stage(record: dict) -> tuple[str, str]:
    found = [m.groups() for p in record["params"] if (m := re.fullmatch(r"'(\w+)@([0-9a-f]{16})'", p))]
    assert len(found) == 1, f"rule {record['rule']}: params without exactly one stage code: {record['params']}"
    return found[0]


@pytest.mark.slow
def test_every_ci_job_ran_with_the_import_closure_of_its_stage(ci_finished):
    """Each job of the real ci run recorded (Snakemake metadata) the digest of its stage's closure as it is
    now, and every editlab module the job really loaded is in that closure: nothing it imports is missed."""
    tree = SourceTree(ci_finished / "src")    # the code the run ran (the test session's copy of src/)
    records = [json.loads(p.read_text()) for p in (ci_finished / ".snakemake" / "metadata").iterdir()]
    assert len(records) > 100
    seen: set[str] = set()
    for record in records:
        stage, digest = record_stage(record)
        assert f"{stage}@{digest}" == stage_code(stage, tree), f"rule {record['rule']}: stale or wrong code param"
        (log,) = record["log"]
        loaded = re.findall(r"editlab modules loaded: (\S+)", (ci_finished / log).read_text())
        assert len(loaded) == 1, log
        missing = set(loaded[0].split(",")) - set(stage_modules(stage, tree))
        assert not missing, f"{log}: stage {stage} loaded modules outside its closure: {sorted(missing)}"
        seen.add(stage)
    assert {"mini_data", "splits", "fold", "base_model", "sme_stream", "aggregate_sme", "nmt_edit", "fig_cost"} <= seen


# --- the layout -----------------------------------------------------------------------------------------

def test_layout_is_the_one_source_of_run_paths():
    layout = Layout("ci")
    assert layout.data_file("zsre", "dev") == "results/ci/data/zsre/structured_zeroshot-dev-new_annotated_final.jsonl"
    assert layout.sme_outputs("fever", "ft", "fold1") == {
        k: f"results/ci/sme/fever/ft/fold1/{f}" for k, f in
        (("edits", "edits.jsonl"), ("curve", "curve.jsonl"), ("summary", "summary.json"))}
    assert Layout("ci", "/w").sme_bench("zsre", "tpatcher", "long") == "/w/benchmarks/out/ci/sme/zsre/tpatcher/long.tsv"
    # nothing outside the layout spells a run path
    for path in [*RULES.glob("*.smk"), REPO / "src/editlab/sme/speed.py", *(REPO / "benchmarks").glob("*.py")]:
        text = path.read_text()
        assert not re.search(r'(RESULTS|FIGURES|"results"|/ "splits"|/ "base")', text), path


# --- stage inputs: the Cao ingest -----------------------------------------------------------------------

def cao_rows() -> dict[str, list[dict]]:
    return {"fever_train": [fever_record(i) for i in range(5)], "fever_dev": [fever_record(i) for i in range(5, 8)],
            "zsre_train": [zsre_record(i) for i in range(5)], "zsre_dev": [zsre_record(i) for i in range(5, 8)]}


def planned(proc) -> list[str]:
    return re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M)


@pytest.mark.slow
def test_ingest_declares_its_archive_and_local_files(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    layout = Layout("t")
    targets = [layout.data_file(task, split) for task, split in (k.split("_") for k in CAO_FILES)]
    # an archive that does not exist fails the dry run, naming it
    (wf / "t.yaml").write_text(yaml.safe_dump({"extends": "config.yaml", "name": "t",
                                               "data": {"source": "cao", "cao": {"path": "nowhere.zip"}}}))
    proc = run_snakemake(wf, "-n", "--configfile", "t.yaml", "--", *targets, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "MissingInputException" in out and "nowhere.zip" in out, out[-3000:]
    # a zip for three files, data.files routes the fourth
    rows = cao_rows()
    with zipfile.ZipFile(wf / "data.zip", "w") as zf:
        for key, (task, name) in CAO_FILES.items():
            if key != "zsre_dev":
                zf.writestr(f"data/{task}/{name}", write_jsonl(tmp_path / f"{key}.jsonl", rows[key]))
    local = tmp_path / "local_dev.jsonl"
    write_jsonl(local, rows["zsre_dev"])
    (wf / "t.yaml").write_text(yaml.safe_dump({"extends": "config.yaml", "name": "t",
                                               "data": {"source": "cao", "cao": {"path": "data.zip"},
                                                                     "files": {"zsre_dev": str(local)}}}))
    run_snakemake(wf, "--configfile", "t.yaml", "--", *targets)
    assert planned(run_snakemake(wf, "-n", "--configfile", "t.yaml", "--", *targets)) == []
    assert (wf / layout.data_file("zsre", "dev")).read_bytes() == local.read_bytes()
    # replacing the local file reruns the ingest (and only it)
    write_jsonl(local, rows["zsre_dev"][:2])
    assert planned(run_snakemake(wf, "-n", "--configfile", "t.yaml", "--", *targets)) == ["ingest_cao"]
