"""Hyperparameters of the rank-one editor; defaults are ROME's GPT-2 XL values (kmeng01/rome)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from editlab.errors import ConfigError

KeyMode = Literal["rome", "r-rome"]


@dataclass(frozen=True)
class RomeHyperParams:
    side: Literal["encoder", "decoder"] = "encoder"
    layer: int = 0
    # rome: ΔW maps the edit's own key to v* (ROME code); r-rome: the context-averaged key (Gupta et al. 2024).
    key_mode: KeyMode = "rome"
    n_context_variants: int = 10  # random-prefix contexts averaged into k* (ROME: 20 generated prefixes)
    max_prefix_words: int = 4
    v_num_grad_steps: int = 20
    v_lr: float = 0.5
    v_loss_stop: float = 5e-2  # ROME stops the v* search once the loss is below this
    v_weight_decay: float = 0.5
    kl_factor: float = 0.0625
    clamp_norm_factor: float = 4.0
    # Tikhonov term added to C as a fraction of its mean diagonal; ROME inverts C as is (0).
    mom2_ridge: float = 0.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any], key_mode: KeyMode | None = None) -> RomeHyperParams:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - names)
        if unknown:
            raise ConfigError(f"config key 'nmt.rome': unknown keys {unknown}")
        values = dict(section)
        if key_mode is not None:
            values["key_mode"] = key_mode
        if values.get("key_mode", "rome") not in ("rome", "r-rome"):
            raise ConfigError(f"config key 'nmt.rome.key_mode': must be rome or r-rome, got {values['key_mode']!r}")
        return cls(**values)
