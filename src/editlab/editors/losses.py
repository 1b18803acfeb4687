"""Transformer-Patcher's activation and memory losses (docs/design.md §6), pure functions on tensors.

S_k(z) = mean of the k largest exp(z_j) over the flattened tensor (k capped at its size).
`repeats` = r: S_k over the multiset in which every entry of z occurs r times, computed on z itself (the
reference builds such tensors: its absolute memory term repeats every memory activation once per copy,
and on a dropout-free model all 8 copies are the same row).
"""

from __future__ import annotations

import torch


def top_k_exp_mean(z: torch.Tensor, k: int, repeats: int = 1) -> torch.Tensor:
    flat = z.reshape(-1)
    k = min(k, flat.numel() * repeats)
    # exp is increasing: the k largest exponentials are the exponentials of the k largest entries
    # (the same elements as the reference's topk(exp(z))), at k instead of numel exponentials.
    if repeats == 1:
        return torch.exp(torch.topk(flat, k=k)[0]).mean()
    # With r copies of each entry the k largest are the k // r largest entries r times each, and the next
    # one (k mod r) times.
    full, rest = divmod(k, repeats)
    top = torch.exp(torch.topk(flat, k=full + (rest > 0))[0])
    total = top[:full].sum() * repeats
    if rest:
        total = total + top[full] * rest
    return total / k


def activation_loss(edit_acts: torch.Tensor, margin: float, k: int) -> torch.Tensor:
    """S_k(m_a - a_e): the new neurons must fire on the edit queries. edit_acts: [copies, n_new]."""
    return top_k_exp_mean(margin - edit_acts, k)


def memory_loss(memory_acts: torch.Tensor, edit_acts: torch.Tensor, gamma: float, beta: float,
                k_relative: int, k_absolute: int, repeats: int = 1) -> torch.Tensor:
    """S_k(a_m - a_e + gamma) + S_k(a_m - beta): silent on memory queries, and well below the edit.

    memory_acts [M, n_new], edit_acts [copies, n_new], each copy standing for `repeats` identical ones.
    Like the reference, both terms are taken over the (M, copies x repeats, n_new) tensor, so the absolute
    term sees every memory activation once per copy; neither tensor is built.
    """
    copies = edit_acts.shape[0] * repeats
    k = -(-max(k_relative, k_absolute) // repeats)
    if memory_acts.shape[0] > k:
        # Exact shortcut: for each neuron and copy both terms increase with a_m, so their k largest
        # entries come from the ceil(k / repeats) largest memory activations of that neuron.
        memory_acts = torch.topk(memory_acts, k, dim=0).values
    relative = memory_acts[:, None, :] - edit_acts[None, :, :] + gamma
    return top_k_exp_mean(relative, k_relative, repeats) + top_k_exp_mean(memory_acts - beta, k_absolute, copies)
