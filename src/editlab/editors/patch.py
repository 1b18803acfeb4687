"""Patch neurons appended to one FFN: act(k_i·h + b_i)·v_i added to the block output (docs/design.md §6).

Committed patches are frozen tensors (bit-identical after later edits); the neurons of the edit in
progress are the only parameters. v_i = u_i ⊙ s_i as in the reference (u ~ N(0, I), s initialised to
`value_scale`), both trained.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class PatchBank(nn.Module):
    def __init__(self, d_in: int, d_out: int, activation: Callable[[torch.Tensor], torch.Tensor],
                 activation_dropout: float = 0.0) -> None:
        super().__init__()
        self.activation = activation
        self.activation_dropout = activation_dropout
        self.register_buffer("keys", torch.zeros(0, d_in))
        self.register_buffer("biases", torch.zeros(0))
        self.register_buffer("values", torch.zeros(0, d_out))
        self.register_buffer("owner", torch.zeros(0, dtype=torch.long))
        self.new_keys: nn.Parameter | None = None
        self.new_biases: nn.Parameter | None = None
        self.new_u: nn.Parameter | None = None
        self.new_scale: nn.Parameter | None = None
        self.new_owner = -1

    @property
    def n_committed(self) -> int:
        return int(self.keys.shape[0])

    @property
    def n_new(self) -> int:
        return 0 if self.new_keys is None else int(self.new_keys.shape[0])

    def add(self, queries: torch.Tensor, owner: int, *, key_exponent: float, value_scale: float,
            generator: torch.Generator) -> None:
        """New neurons, one per query row: k = q/‖q‖^p (p=2: pre-activation 1 on its own query), b = 0."""
        if self.new_keys is not None:
            raise RuntimeError("commit the previous patch before adding a new one")
        q = queries.detach()
        norm = q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        d_out = self.values.shape[1]
        u = torch.randn(q.shape[0], d_out, generator=generator, device="cpu").to(q.device, q.dtype)
        self.new_keys = nn.Parameter(q / norm ** key_exponent)
        self.new_biases = nn.Parameter(torch.zeros(q.shape[0], device=q.device, dtype=q.dtype))
        self.new_u = nn.Parameter(u)
        self.new_scale = nn.Parameter(torch.full_like(u, value_scale))
        self.new_owner = owner

    def trainable(self) -> list[nn.Parameter]:
        return [p for p in (self.new_keys, self.new_biases, self.new_u, self.new_scale) if p is not None]

    def commit(self) -> None:
        """Freeze the neurons of the current edit (a failed edit keeps its neurons too, as in the reference)."""
        if self.new_keys is None:
            return
        n = self.n_new
        self.keys = torch.cat([self.keys, self.new_keys.detach().clone()])
        self.biases = torch.cat([self.biases, self.new_biases.detach().clone()])
        self.values = torch.cat([self.values, (self.new_u * self.new_scale).detach().clone()])
        self.owner = torch.cat([self.owner, torch.full((n,), self.new_owner, dtype=torch.long,
                                                       device=self.owner.device)])
        self.new_keys = self.new_biases = self.new_u = self.new_scale = None
        self.new_owner = -1

    def new_pre_activation(self, h: torch.Tensor) -> torch.Tensor:
        """Pre-activations of the neurons being trained, [..., n_new]."""
        return h @ self.new_keys.T + self.new_biases

    def pre_activation(self, h: torch.Tensor) -> torch.Tensor:
        """Pre-activations of all neurons (committed, then new), [..., n_patches]."""
        acts = h @ self.keys.T + self.biases
        if self.new_keys is not None:
            acts = torch.cat([acts, self.new_pre_activation(h)], dim=-1)
        return acts

    def forward(self, h: torch.Tensor, training: bool = False, new_only: bool = False) -> torch.Tensor:
        """Contribution to the FFN output for FFN inputs h [..., d_in] (`new_only`: of the neurons being
        trained only, for callers that hold the rest fixed)."""
        has_new = self.new_keys is not None
        if (self.n_committed == 0 or new_only) and not has_new:
            return torch.zeros(*h.shape[:-1], self.values.shape[1], device=h.device, dtype=h.dtype)
        if new_only:
            acts, values = self.new_pre_activation(h), self.new_u * self.new_scale
        else:
            acts = self.pre_activation(h)
            values = torch.cat([self.values, self.new_u * self.new_scale]) if has_new else self.values
        hidden = F.dropout(self.activation(acts), p=self.activation_dropout, training=training)
        return hidden @ values
