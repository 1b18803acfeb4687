"""Transformer-Patcher's activation and memory losses (DESIGN §6), pure functions on tensors.

S_k(z) = mean of the k largest exp(z_j) over the flattened tensor (k capped at its size).
"""

from __future__ import annotations

import torch


def top_k_exp_mean(z: torch.Tensor, k: int) -> torch.Tensor:
    flat = z.reshape(-1)
    # exp is increasing: the k largest exponentials are the exponentials of the k largest entries
    # (the same elements as the reference's topk(exp(z))), at k instead of numel exponentials.
    return torch.exp(torch.topk(flat, k=min(k, flat.numel()))[0]).mean()


def activation_loss(edit_acts: torch.Tensor, margin: float, k: int) -> torch.Tensor:
    """S_k(m_a - a_e): the new neurons must fire on the edit queries. edit_acts: [copies, n_new]."""
    return top_k_exp_mean(margin - edit_acts, k)


def memory_loss(memory_acts: torch.Tensor, edit_acts: torch.Tensor, gamma: float, beta: float,
                k_relative: int, k_absolute: int) -> torch.Tensor:
    """S_k(a_m - a_e + gamma) + S_k(a_m - beta): silent on memory queries, and well below the edit.

    memory_acts [M, n_new], edit_acts [copies, n_new]. Like the reference, both terms are taken over the
    (M, copies, n_new) tensor, so the absolute term sees every memory activation once per copy.
    """
    k = max(k_relative, k_absolute)
    if memory_acts.shape[0] > k:
        # Exact shortcut: for each neuron and copy both terms increase with a_m, so their k largest
        # entries come from the k largest memory activations of that neuron.
        memory_acts = torch.topk(memory_acts, k, dim=0).values
    relative = memory_acts[:, None, :] - edit_acts[None, :, :] + gamma
    absolute = (memory_acts - beta)[:, None, :].expand_as(relative)
    return top_k_exp_mean(relative, k_relative) + top_k_exp_mean(absolute, k_absolute)
