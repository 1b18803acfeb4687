"""Edit metrics: efficacy, generalisation, specificity, BLEU/chrF (sacrebleu)."""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu

from editlab.nmt.tasks import Probe


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)


def exact_rate(outputs: Sequence[str], expected: Sequence[str]) -> float:
    """Fraction of outputs equal (token-wise) to the expected strings."""
    if not outputs:
        return float("nan")
    return sum(o.split() == e.split() for o, e in zip(outputs, expected, strict=True)) / len(outputs)


def behaviour_absent_rate(outputs: Sequence[str], probes: Sequence[Probe]) -> float:
    """Generalisation: fraction of inputs on which the unwanted behaviour no longer shows."""
    if not probes:
        return float("nan")
    return sum(not p.behaviour.present(o) for o, p in zip(outputs, probes, strict=True) if p.behaviour) / len(probes)


def behaviour_present_rate(outputs: Sequence[str], probes: Sequence[Probe]) -> float:
    return 1.0 - behaviour_absent_rate(outputs, probes)
