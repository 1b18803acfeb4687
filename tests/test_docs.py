"""The numbers the docs quote are the committed results: the README's main table is `figures/mini/table_main.md`
row for row, the NMT page's mini table agrees with `figures/mini/nmt_table.md` on every shared column, and no
tracked file sends a reader to a path outside the repository."""

from __future__ import annotations

import re
import subprocess

from conftest import REPO


def _rows(markdown: str, first_cell: str, n_cells: int) -> list[list[str]]:
    """The cells of the markdown table rows with `n_cells` cells whose first matches the pattern `first_cell`."""
    rows = []
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == n_cells and re.fullmatch(first_cell, cells[0]):
            rows.append(cells)
    return rows


def test_readme_main_table_is_the_committed_one():
    method = r"T-Patcher|FT|FT\+KL"
    readme = _rows((REPO / "README.md").read_text(encoding="utf-8"), method, 11)
    committed = _rows((REPO / "figures/mini/table_main.md").read_text(encoding="utf-8"), method, 11)
    assert len(committed) == 3 and readme == committed


def test_rank_one_page_table_agrees_with_the_committed_nmt_table():
    task = "hallucination|memorised|copy|mistranslation"
    page = _rows((REPO / "docs/methods/rank_one_editing.md").read_text(encoding="utf-8"), task, 8)
    committed = _rows((REPO / "figures/mini/nmt_table.md").read_text(encoding="utf-8"), task, 11)
    # page: task, method, protocol, Eff, Gen, Spec, "BLEU before -> after (worst drift)", s/edit
    # committed: task, method, protocol, Eff, Gen, Spec, BLEU before, BLEU after, chrF before, chrF after, s/edit
    # (s/edit is a timing of one run: not compared)
    want = {tuple(r[:3]): (*r[3:6], f"{r[6]} → {r[7]}") for r in committed}
    got = {tuple(r[:3]): (*r[3:6], r[6].split(" (")[0]) for r in page}
    assert len(want) == 32 and got == want


def test_no_tracked_file_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    offenders = []
    for name in tracked.splitlines():
        path = REPO / name
        if name == "tests/test_docs.py":   # this file: its patterns name what they look for
            continue
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".smk", ".sh", ".toml", ".cfg", ".txt"} and \
                path.name not in {"Snakefile", "Makefile"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{name}: {m.group(0)}" for m in re.finditer(r"/work/\S+|\.\./shared/DESIGN\.md", text)]
    assert offenders == []
