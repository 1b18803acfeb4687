"""Editors behind one interface (`editlab.editors.base.Editor`): tpatcher, ft, ftkl."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from editlab.errors import ConfigError

METHODS = ("tpatcher", "ft", "ftkl")


def build_editor(method: str, sme_config: Mapping[str, Any], task: str, seed: int) -> Any:
    """The editor of `method` with its hyperparameters from `sme.<method>` (per-task overrides applied)."""
    from editlab.editors.ft import FT, FTParams
    from editlab.editors.ftkl import FTKL, FTKLParams
    from editlab.editors.tpatcher import TPatcher, TPatcherParams

    classes = {"tpatcher": (TPatcher, TPatcherParams), "ft": (FT, FTParams), "ftkl": (FTKL, FTKLParams)}
    if method not in classes:
        raise ConfigError(f"unknown SME method {method!r} (expected one of {', '.join(METHODS)})")
    editor_cls, params_cls = classes[method]
    return editor_cls(params_cls.from_config(sme_config.get(method) or {}, task), seed)
