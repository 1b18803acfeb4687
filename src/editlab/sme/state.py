"""Everything a stream needs to continue: position, per-edit log, curve, memory growth, RNG states.

Kept in one object so that a later resumable runner can save and restore it (with the editor's
patches/weights) and continue bit-identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class StreamState:
    position: int = 0                                     # next index in the stream
    records: list[dict[str, Any]] = field(default_factory=list)   # one per visited example
    curve: list[dict[str, Any]] = field(default_factory=list)     # one per checkpoint
    edit_ids: list[str] = field(default_factory=list)     # examples edited so far, in order
    seconds: float = 0.0                                  # editing time so far

    @property
    def n_edits(self) -> int:
        return len(self.edit_ids)

    def rng_snapshot(self, editor: Any) -> dict[str, Any]:
        """Global and editor RNG states (dropout, patch init, history sampling)."""
        snap: dict[str, Any] = {"torch": torch.get_rng_state()}
        generator = getattr(editor, "generator", None)
        if generator is not None:
            snap["editor"] = generator.get_state()
        return snap
