"""Forward-hook tracing: read a module's input, add a vector to its output at chosen positions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def capture_input(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Collect the first positional input of every call of `module` while the block runs."""
    seen: list[torch.Tensor] = []

    def hook(_mod: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        seen.append(args[0])

    handle = module.register_forward_pre_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


@contextlib.contextmanager
def edit_output(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Replace the output of `module` by fn(output) while the block runs."""

    def hook(_mod: nn.Module, _args: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        return fn(output)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def add_at_positions(delta: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """fn(output) adding `delta` at output[rows[i], cols[i]] for every i (batch row, position)."""

    def fn(output: torch.Tensor) -> torch.Tensor:
        # Out-of-place so autograd sees the delta; shape (batch, seq, d).
        mask = torch.zeros(output.shape[:2], dtype=output.dtype, device=output.device)
        mask[rows, cols] = 1.0
        return output + mask.unsqueeze(-1) * delta.to(output.dtype)

    return fn
