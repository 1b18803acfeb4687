"""Atomic outputs: nothing half-written, and the usual permissions (not mkstemp's/mkdtemp's 0600/0700)."""

from __future__ import annotations

import os
import stat

import pytest
import torch
from safetensors.torch import save_file

from editlab.io import atomic_dir, atomic_path


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_file_gets_umask_permissions(tmp_path, umask_022):
    target = tmp_path / "p.safetensors"
    with atomic_path(target) as tmp:
        save_file({"x": torch.zeros(2)}, str(tmp))
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_atomic_dir_gets_umask_permissions(tmp_path, umask_022):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("a")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert (target / "a.txt").read_text() == "a"


def test_failed_block_leaves_no_output(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
