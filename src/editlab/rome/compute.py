"""Key k* and target value v* of one edit (ROME's compute_u / compute_v for encoder-decoder models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from editlab.rome.batches import Seq2SeqIds, TokenSpecials, forward_logits, make_batch, target_nll
from editlab.rome.hooks import add_at_positions, capture_input, edit_output
from editlab.rome.hparams import RomeHyperParams
from editlab.rome.locate import FFNLocus


@dataclass(frozen=True)
class EditIds:
    """One edit request as token ids.

    `position` is the key position: the trigger's last source token (encoder locus) or the target
    position whose prediction must change (decoder locus, index into the target sequence).
    """

    pair: Seq2SeqIds
    position: int
    contexts: Sequence[tuple[Seq2SeqIds, int]] = field(default_factory=list)  # (variant, its key position)
    essence: tuple[Seq2SeqIds, int] | None = None  # KL anchor: trigger alone + its pre-edit output


@dataclass(frozen=True)
class ValueSearch:
    v_star: torch.Tensor
    v_init: torch.Tensor
    losses: list[float]


def _mask_for(locus: FFNLocus, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return batch["attention_mask"] if locus.side == "encoder" else batch["decoder_attention_mask"]


@torch.no_grad()
def keys_at(model: torch.nn.Module, locus: FFNLocus, items: Sequence[tuple[Seq2SeqIds, int]],
            specials: TokenSpecials, device: str = "cpu") -> torch.Tensor:
    """Keys (inputs of the output projection) at each item's position, shape (n, key_dim)."""
    batch = make_batch([p for p, _ in items], specials, device)
    mask = _mask_for(locus, batch)
    for row, (_, pos) in enumerate(items):
        if not 0 <= pos < int(mask[row].sum()):
            raise ValueError(f"key position {pos} outside the {locus.side} sequence of length {int(mask[row].sum())}")
    with capture_input(locus.module) as seen:
        forward_logits(model, batch)
    rows = torch.arange(len(items))
    cols = torch.tensor([pos for _, pos in items])
    return seen[0][rows, cols].detach()


def average_key(model: torch.nn.Module, locus: FFNLocus, edit: EditIds, specials: TokenSpecials,
                device: str = "cpu") -> torch.Tensor:
    """k*: the mean key over the edit itself and its context variants."""
    return keys_at(model, locus, [(edit.pair, edit.position), *edit.contexts], specials, device).mean(0)


@torch.no_grad()
def output_at(model: torch.nn.Module, locus: FFNLocus, item: tuple[Seq2SeqIds, int], specials: TokenSpecials,
              device: str = "cpu") -> torch.Tensor:
    batch = make_batch([item[0]], specials, device)
    seen: list[torch.Tensor] = []

    def keep(out: torch.Tensor) -> torch.Tensor:
        seen.append(out)
        return out

    with edit_output(locus.module, keep):
        forward_logits(model, batch)
    return seen[0][0, item[1]].detach()


def compute_value(model: torch.nn.Module, locus: FFNLocus, edit: EditIds, hp: RomeHyperParams,
                  specials: TokenSpecials, device: str = "cpu") -> ValueSearch:
    """v* = v0 + δ, δ found by Adam on NLL(positive target) + KL essence term + weight decay, norm-clamped."""
    items = [(edit.pair, edit.position)] + ([edit.essence] if edit.essence is not None else [])
    batch = make_batch([p for p, _ in items], specials, device)
    rows = torch.arange(len(items), device=device)
    cols = torch.tensor([pos for _, pos in items], device=device)
    v_init = output_at(model, locus, items[0], specials, device)
    delta = torch.zeros_like(v_init, dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=hp.v_lr)
    max_norm = hp.clamp_norm_factor * v_init.norm()
    model.eval()
    was_trainable = [(p, p.requires_grad) for p in model.parameters()]
    for param, _ in was_trainable:
        param.requires_grad_(False)
    init_kl_logp = None
    if edit.essence is not None:
        with torch.no_grad():
            init_kl_logp = torch.log_softmax(forward_logits(model, batch)[1].float(), -1)
    losses: list[float] = []
    try:
        for it in range(hp.v_num_grad_steps):
            optimizer.zero_grad()
            with edit_output(locus.module, add_at_positions(delta, rows, cols)):
                logits = forward_logits(model, batch)
            nll = target_nll(logits[:1], batch["labels"][:1]).mean()
            loss = nll + hp.v_weight_decay * (delta.norm() / v_init.norm() ** 2)  # ROME's form of the decay
            if init_kl_logp is not None:
                valid = batch["labels"][1] != -100
                new_logp = torch.log_softmax(logits[1].float(), -1)[valid]
                # ROME: F.kl_div(init, new, log_target=True) = KL(new ‖ init), batch-mean over positions.
                kl = torch.nn.functional.kl_div(init_kl_logp[valid], new_logp, log_target=True, reduction="batchmean")
                loss = loss + hp.kl_factor * kl
            losses.append(float(loss.detach()))
            if float(loss.detach()) < hp.v_loss_stop:
                break
            if it == hp.v_num_grad_steps - 1:   # ROME's compute_v evaluates the last iterate, takes no step: n - 1 steps
                break
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                if delta.norm() > max_norm:
                    delta.mul_(max_norm / delta.norm())
    finally:
        for param, flag in was_trainable:
            param.requires_grad_(flag)
    return ValueSearch(v_star=(v_init + delta.detach()).to(v_init.dtype), v_init=v_init, losses=losses)
