"""Figure: patch activation heat map (patch neurons x edit examples, and x test inputs).

A working patch fires (pre-activation > 0) on the edit that added it and stays below 0 on every other
edit and on unrelated test inputs, so the left panel should show one bright cell per row on a dark
diagonal staircase and the right panel should be uniformly negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from editlab.plots.style import paper_style, save_figure
from editlab.results.fold_outputs import PatchActivations, read_activations
from editlab.results.settings import ReportSettings
from editlab.results.tables import task_label


@dataclass(frozen=True)
class FiringRates:
    own: float  # fraction of patches that fire on their own edit
    other: float  # fraction of (patch, other edit) pairs that fire
    test: float  # fraction of (patch, test input) pairs that fire


def firing_rates(acts: PatchActivations) -> FiringRates:
    """How often a patch fires (pre-activation > 0) on its own edit, on other edits, on test inputs."""
    n_patches, n_edits = acts.edit_acts.shape
    if n_patches == 0:
        return FiringRates(float("nan"), float("nan"), float("nan"))
    own_mask = np.zeros_like(acts.edit_acts, dtype=bool)
    own_mask[np.arange(n_patches), acts.patch_edit] = True
    fires = acts.edit_acts > 0
    other = float(fires[~own_mask].mean()) if (~own_mask).any() else float("nan")
    test = float((acts.test_acts > 0).mean()) if acts.test_acts.size else float("nan")
    return FiringRates(float(fires[own_mask].mean()), other, test)


def plot_patch_activations(task: str, path: str | Path, fold: int, settings: ReportSettings,
                           pdf: str | Path, png: str | Path, profile: str) -> None:
    acts = read_activations(path)
    rates = firing_rates(acts)
    shown_edits = min(acts.edit_acts.shape[1], settings.heatmap_max_edits)
    keep = acts.patch_edit < shown_edits
    edit_part = acts.edit_acts[keep][:, :shown_edits]
    test_part = acts.test_acts[keep][:, :settings.heatmap_max_test]
    both = np.concatenate([edit_part.ravel(), test_part.ravel()]) if keep.any() else np.zeros(1)
    # Separate scales below and above 0 (clipped at the 99th percentile of each side), so the few firing
    # cells saturate red even when silent ones reach much larger magnitudes, and one outlier cannot
    # wash out the map.
    negative, positive = -both[both < 0], both[both > 0]
    low = max(float(np.percentile(negative, 99)) if negative.size else 0.0, 1e-3)
    high = max(float(np.percentile(positive, 99)) if positive.size else 0.0, 1e-3)
    norm = TwoSlopeNorm(vmin=-low, vcenter=0.0, vmax=high)
    with paper_style():
        n_test = max(test_part.shape[1], 1)
        fig = Figure(figsize=(settings.figure_width_in, settings.figure_width_in * 0.5), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True, width_ratios=[max(shown_edits, 1), max(n_test, shown_edits // 3, 1)])
        extent_rows = edit_part.shape[0]
        for ax, data, xlabel in ((axes[0], edit_part, "edit example (stream order)"),
                                 (axes[1], test_part, "test input")):
            image = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="RdBu_r", norm=norm,
                              extent=(-0.5, data.shape[1] - 0.5, extent_rows - 0.5, -0.5))
            ax.set_xlabel(xlabel)
            ax.grid(False)
        axes[0].set_ylabel("patch neuron (order added)")
        axes[0].set_title(f"on edits: own edit fires {rates.own:.0%}, other edits {rates.other:.1%}"
                          + ("" if shown_edits == acts.edit_acts.shape[1]
                             else f" (first {shown_edits} of {acts.edit_acts.shape[1]} edits shown)"))
        axes[1].set_title(f"on test inputs: fires {rates.test:.1%}"
                          + ("" if test_part.shape[1] == acts.test_acts.shape[1]
                             else f" (first {test_part.shape[1]} of {acts.test_acts.shape[1]} shown)"))
        fig.colorbar(image, ax=axes, label="pre-activation $k\\cdot h + b$ (fires if > 0)", shrink=0.9)
        fig.suptitle(f"T-Patcher patch activations, {task_label(task)} fold {fold}, profile {profile}")
        save_figure(fig, pdf, png, settings.dpi)
