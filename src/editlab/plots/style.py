"""Shared look of the figures: colour-blind-safe method colours, paper-size fonts, atomic PDF+PNG output."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from editlab.io import atomic_path

# Okabe-Ito colours (distinguishable under the common colour-vision deficiencies); markers and
# line styles differ too so the figures also read in greyscale.
METHOD_STYLE = {
    "tpatcher": {"color": "#0072B2", "marker": "o", "linestyle": "-", "label": "T-Patcher"},
    "ft": {"color": "#D55E00", "marker": "s", "linestyle": "--", "label": "FT"},
    "ftkl": {"color": "#009E73", "marker": "^", "linestyle": "-.", "label": "FT+KL"},
}
FALLBACK_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
PATH_COLORS = {"cached": "#56B4E9", "reference": "#E69F00"}
PAPER_RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.3,
    "pdf.fonttype": 42,  # embed TrueType so the PDF text stays editable/searchable
}


def method_style(method: str, position: int = 0) -> dict[str, str]:
    if method in METHOD_STYLE:
        return METHOD_STYLE[method]
    return {"color": FALLBACK_COLORS[position % len(FALLBACK_COLORS)], "marker": "D", "linestyle": ":",
            "label": method}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    with matplotlib.rc_context(PAPER_RC):
        yield


def save_figure(fig: Figure, pdf: str | Path, png: str | Path, dpi: int) -> None:
    """Write both formats atomically; no creation date in the PDF so reruns give the same bytes."""
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
