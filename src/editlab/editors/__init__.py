"""One editor registry for both results: the SME editors (tpatcher, ft, ftkl; the `editlab.editors.base.Editor`
interface) and the NMT methods (rome, r-rome, ft, tpatcher; `editlab.nmt.methods.NmtMethod`).

A method is a name in `REGISTRY` pointing at its factory ("module:function", imported when used, so that
listing the methods imports no torch code); nothing else dispatches on method names.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from editlab.errors import ConfigError

# domain -> method -> factory. SME factories: (method section, task, seed) -> Editor;
# NMT factories: (editlab.nmt.methods.NmtContext) -> NmtMethod.
REGISTRY: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "sme": MappingProxyType({
        "tpatcher": "editlab.editors.tpatcher:build",
        "ft": "editlab.editors.ft:build",
        "ftkl": "editlab.editors.ftkl:build",
    }),
    "nmt": MappingProxyType({
        "rome": "editlab.nmt.methods:rank_one",
        "r-rome": "editlab.nmt.methods:rank_one",
        "ft": "editlab.nmt.methods:fine_tune",
        "tpatcher": "editlab.nmt.methods:t_patcher",
    }),
})
METHODS = tuple(REGISTRY["sme"])
CONFIG_KEY = {"sme": "sme.methods", "nmt": "nmt.methods"}


def methods(domain: str) -> tuple[str, ...]:
    return tuple(REGISTRY[domain])


def factory(domain: str, method: str) -> Callable[..., Any]:
    """The factory registered for `method` in `domain` ("sme" or "nmt")."""
    known = REGISTRY[domain]
    if method not in known:
        hint = difflib.get_close_matches(method, list(known), n=1)
        raise ConfigError(f"config key '{CONFIG_KEY[domain]}': unknown {domain.upper()} method {method!r} "
                          f"(expected one of {', '.join(known)})" + (f"; did you mean '{hint[0]}'?" if hint else ""))
    module, _, name = known[method].partition(":")
    return getattr(importlib.import_module(module), name)


def build_editor(method: str, sme_config: Mapping[str, Any], task: str, seed: int) -> Any:
    """The SME editor of `method` with its hyperparameters from `sme.<method>` (per-task overrides applied)."""
    return factory("sme", method)(sme_config.get(method) or {}, task, seed)
