"""The one in-memory record every downstream stage uses, whatever file it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

FEVER_LABELS = ("REFUTES", "SUPPORTS")


@dataclass(frozen=True)
class Example:
    """A FEVER claim or a zsRE question.

    `answers` holds the gold answers (zsRE) or the single FEVER label string; `rephrases` is the
    equivalence set (may be empty for KILT originals). `extra` keeps format-specific fields (e.g. MEND's
    locality question) that some consumers want.
    """

    id: str
    input: str
    answers: tuple[str, ...]
    rephrases: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def label(self) -> int:
        """FEVER label: 1 iff SUPPORTS."""
        return int(self.answers[0] == "SUPPORTS")

    @property
    def equivalents(self) -> tuple[str, ...]:
        """Rephrases without the input itself (Cao's rephrases may contain it)."""
        return tuple(r for r in self.rephrases if r != self.input)
