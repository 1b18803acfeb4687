"""The `report:` config section as one dataclass (interval, figures, heat-map choices)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from editlab.config import check_keys, from_section, param
from editlab.errors import ConfigError

DEFAULT_FIGURES = ("sme_curves", "patch_activations", "long_stream", "cost")
# scale_stream: the long streams' metrics against edits and cost against patches (config/scale.yaml)
FIGURE_KINDS = (*DEFAULT_FIGURES, "scale_stream")


@dataclass(frozen=True)
class ReportSettings:
    """config section report (results stage: aggregation, tables, figures)."""

    interval_level: float = param(0.95, "coverage of the Student-t interval across folds in tables and curve bands",
                                  exclusiveMinimum=0, exclusiveMaximum=1)
    figures: tuple[str, ...] = param(
        DEFAULT_FIGURES, "figures to make; long_stream and scale_stream also need sme.long_stream.enabled, "
        "patch_activations needs tpatcher among sme.methods; with no sme.methods only long_stream and "
        "scale_stream are made", uniqueItems=True, items={"enum": list(FIGURE_KINDS)})
    heatmap_fold: int = param(0, "fold whose activations.npz the heat map shows", minimum=0)
    heatmap_max_edits: int = param(200, "at most this many edit columns (the first of the stream) in the heat map, "
                                   "so cells stay visible", minimum=1)
    heatmap_max_test: int = param(100, "at most this many test-input columns (of the sme.n_test_shown stored) in "
                                  "the heat map", minimum=1)
    curve_min_fold_fraction: float = param(0.75, "a curve point is drawn only where at least this fraction of the "
                                           "folds has that many edits", exclusiveMinimum=0, maximum=1)
    edit_speed: bool = param(False, "add a panel with the reference vs cached seconds per edit of "
                             "benchmarks/edit_speed.py to the cost figure (rule edit_speed writes "
                             "results/{name}/benchmarks/edit_speed.json; CPU, one torch thread)")
    edit_speed_settings: Mapping[str, int] = param(
        description="the rule edit_speed's arguments, as benchmarks/edit_speed.py's options of the same names",
        default_factory=lambda: {"edits": 5, "base_edits": 2, "base_steps": 150, "base_memory": 1000},
        additionalProperties=False, required=["edits", "base_edits", "base_steps", "base_memory"],
        properties={"edits": {"type": "integer", "minimum": 1, "description": "mistakes of fold 0 timed per mini model and path"},
                    "base_edits": {"type": "integer", "minimum": 1,
                                   "description": "synthetic mistakes per base-sized model and path"},
                    "base_steps": {"type": "integer", "minimum": 1, "description": "steps per base-sized edit"},
                    "base_memory": {"type": "integer", "minimum": 1,
                                    "description": "memory examples of the base-sized models"}})
    figure_width_in: float = param(7.0, "figure width in inches (7 = a two-column paper's text width)",
                                   exclusiveMinimum=0)
    dpi: int = param(200, "PNG resolution", minimum=50)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> ReportSettings:
        section = dict(section or {})
        check_keys(section, cls.__dataclass_fields__, "report")
        if "figures" in section:
            bad = [f for f in section["figures"] if f not in FIGURE_KINDS]
            if bad:
                raise ConfigError(f"config key 'report.figures': unknown figure '{bad[0]}' "
                                  f"(known: {', '.join(FIGURE_KINDS)})")
            section["figures"] = tuple(section["figures"])
        settings = from_section(cls, section, "report")
        if not 0 < settings.interval_level < 1:
            raise ConfigError("config key 'report.interval_level': must lie strictly between 0 and 1")
        return settings
