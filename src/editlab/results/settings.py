"""The `report:` config section as one dataclass (interval, figures, heat-map choices)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from editlab.errors import ConfigError

FIGURE_KINDS = ("sme_curves", "patch_activations", "long_stream", "cost")


@dataclass(frozen=True)
class ReportSettings:
    interval_level: float = 0.95
    """Two-sided coverage of the Student-t interval across folds."""
    figures: tuple[str, ...] = FIGURE_KINDS
    heatmap_fold: int = 0
    heatmap_max_edits: int = 200
    """Cap on edit columns drawn in the heat map (the first ones of the stream) so cells stay visible."""
    heatmap_max_test: int = 100
    """Cap on test-input columns drawn (the editing stage stores sme.n_test_shown of them)."""
    curve_min_fold_fraction: float = 0.75
    """A curve point is drawn only where at least this fraction of folds has reached that many edits."""
    edit_speed: bool = False
    """Add the reference-vs-cached panel from results/{name}/benchmarks/edit_speed.json to the cost figure."""
    edit_speed_settings: Mapping[str, int] = field(default_factory=lambda: {
        "edits": 5, "base_edits": 2, "base_steps": 150, "base_memory": 1000})
    """Options of rule edit_speed (benchmarks/edit_speed.py's of the same names); read by the rule itself."""
    figure_width_in: float = 7.0
    dpi: int = 200

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> "ReportSettings":
        section = dict(section or {})
        unknown = set(section) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"config key 'report.{sorted(unknown)[0]}': unknown key")
        if "figures" in section:
            bad = [f for f in section["figures"] if f not in FIGURE_KINDS]
            if bad:
                raise ConfigError(f"config key 'report.figures': unknown figure '{bad[0]}' "
                                  f"(known: {', '.join(FIGURE_KINDS)})")
            section["figures"] = tuple(section["figures"])
        settings = cls(**section)
        if not 0 < settings.interval_level < 1:
            raise ConfigError("config key 'report.interval_level': must lie strictly between 0 and 1")
        return settings
