"""The editor interface: prepare on a model and its data, edit one example, report what was added."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from editlab.data.records import Example


@dataclass
class EditOutcome:
    n_neurons: int          # neurons added by this edit (0 for weight-updating editors)
    steps: int              # optimiser steps taken
    info: dict[str, Any] = field(default_factory=dict)


class Editor(Protocol):
    method: str

    def prepare(self, path: Any, memory: Sequence[Example], val: Sequence[Example]) -> None:
        """Build what the editor needs before the stream (memories, reference outputs)."""

    def edit(self, example: Example, index: int) -> EditOutcome:
        """Change the model so that it gets `example` right; `index` is its position in the stream."""

    def snapshot(self) -> dict[str, Any]:
        """Between edits: the state the edits so far left behind (tensors and plain values only)."""

    def restore(self, snap: dict[str, Any], edited: Sequence[Example]) -> None:
        """On a freshly prepared editor: continue as if the edits of `snap` had just been made."""


def merged_section(section: Mapping[str, Any], task: str) -> dict[str, Any]:
    """A method's config section with its per-task overrides (keys `fever`/`zsre`) applied."""
    out = {k: v for k, v in section.items() if k not in ("fever", "zsre")}
    out.update(section.get(task) or {})
    return out

