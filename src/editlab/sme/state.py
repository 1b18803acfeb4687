"""Everything a stream needs to continue: position, per-edit log, curve, edited ids, editing time.

The editor's state (patches, memory growth, weights) and the RNG states are saved next to it by
`editlab.sme.resume`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StreamState:
        return cls(**values)
