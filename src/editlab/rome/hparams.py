"""Hyperparameters of the rank-one editor; defaults are ROME's GPT-2 XL values (kmeng01/rome)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from editlab.config import from_section, param
from editlab.errors import ConfigError

KeyMode = Literal["rome", "r-rome"]


@dataclass(frozen=True)
class RomeHyperParams:
    """config section nmt.rome; side and layer come from nmt.locus, key_mode from the method name."""

    side: Literal["encoder", "decoder"] = "encoder"
    layer: int = 0
    # rome: ΔW maps the edit's own key to v* (ROME code); r-rome: the context-averaged key (Gupta et al. 2024).
    key_mode: KeyMode = "rome"
    n_context_variants: int = param(10, "random-prefix contexts averaged into k* (ROME 20)", minimum=0)
    max_prefix_words: int = param(4, minimum=1)
    v_num_grad_steps: int = param(20, "Adam steps for v* (ROME 20)", minimum=1)
    v_lr: float = param(0.5, "ROME 0.5", exclusiveMinimum=0)
    v_loss_stop: float = param(5e-2, "stop the v* search below this loss (ROME 0.05)", minimum=0)
    v_weight_decay: float = param(0.5, "ROME 0.5", minimum=0)
    kl_factor: float = param(0.0625, "essence KL weight (ROME 0.0625)", minimum=0)
    clamp_norm_factor: float = param(4.0, "|δ| ≤ this × |v0| (ROME 4)", exclusiveMinimum=0)
    # Tikhonov term added to C as a fraction of its mean diagonal; ROME inverts C as is (0).
    mom2_ridge: float = param(0.0, "added to C as a fraction of its mean diagonal (ROME 0)", minimum=0)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], key_mode: KeyMode | None = None) -> RomeHyperParams:
        values = dict(section)
        if key_mode is not None:
            values["key_mode"] = key_mode
        if values.get("key_mode", "rome") not in ("rome", "r-rome"):
            raise ConfigError(f"config key 'nmt.rome.key_mode': must be rome or r-rome, got {values['key_mode']!r}")
        return from_section(cls, values, "nmt.rome")
