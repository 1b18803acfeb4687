"""Uncentred second moment C = E[k kᵀ] of one FFN locus' keys, streamed in float64 and cached."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from safetensors.torch import load_file, save_file

from editlab.errors import DataFormatError
from editlab.io import atomic_path
from editlab.progress import Progress
from editlab.rome.batches import Seq2SeqIds, TokenSpecials, forward_logits, make_batch
from editlab.rome.hooks import capture_input
from editlab.rome.locate import FFNLocus


@dataclass(frozen=True)
class SecondMoment:
    matrix: torch.Tensor  # (key_dim, key_dim) float64
    count: int  # number of key vectors averaged
    side: str
    layer: int
    model_id: str  # provenance: which model these keys came from


def _chunks(items: Sequence[Seq2SeqIds], size: int) -> Iterable[Sequence[Seq2SeqIds]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@torch.no_grad()
def second_moment(model: torch.nn.Module, locus: FFNLocus, corpus: Sequence[Seq2SeqIds], specials: TokenSpecials,
                  batch_size: int = 64, model_id: str = "", device: str = "cpu") -> SecondMoment:
    """E[k kᵀ] over every non-padding position of the corpus (teacher-forced for the decoder)."""
    dim = locus.key_dim
    total = torch.zeros(dim, dim, dtype=torch.float64, device=device)
    count = 0
    model.eval()
    bar = Progress(len(corpus), f"covariance statistics {locus.name}", unit="sequences")
    for chunk in _chunks(corpus, batch_size):
        batch = make_batch(chunk, specials, device)
        with capture_input(locus.module) as seen:
            forward_logits(model, batch)
        keys = seen[0]
        mask = batch["attention_mask"] if locus.side == "encoder" else batch["decoder_attention_mask"]
        flat = keys[mask.bool()].to(torch.float64)
        total += flat.T @ flat
        count += flat.shape[0]
        bar.update(len(chunk), keys=count)
    bar.close()
    if count == 0:
        raise DataFormatError("<statistics corpus>", "empty corpus: no key vectors to average")
    return SecondMoment(matrix=total / count, count=count, side=locus.side, layer=locus.layer, model_id=model_id)


def save_second_moment(path: str | os.PathLike[str], stats: SecondMoment) -> None:
    meta = {"count": str(stats.count), "side": stats.side, "layer": str(stats.layer), "model_id": stats.model_id}
    with atomic_path(path) as tmp:
        save_file({"mom2": stats.matrix.contiguous().cpu()}, str(tmp), metadata=meta)


def load_second_moment(path: str | os.PathLike[str], side: str | None = None, layer: int | None = None) -> SecondMoment:
    """Load a cached C; a cache computed for another locus is an error, not a silent mismatch."""
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except FileNotFoundError:
        raise DataFormatError(path, "second-moment statistics file not found") from None
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise DataFormatError(path, f"unreadable statistics file ({exc})") from None
    if "mom2" not in tensors or not {"count", "side", "layer"} <= set(meta):
        raise DataFormatError(path, "not an editlab second-moment file (missing mom2 tensor or metadata)")
    stats = SecondMoment(matrix=tensors["mom2"].to(torch.float64), count=int(meta["count"]), side=meta["side"],
                         layer=int(meta["layer"]), model_id=meta.get("model_id", ""))
    if side is not None and stats.side != side or layer is not None and stats.layer != layer:
        raise DataFormatError(path, f"statistics are for {stats.side} layer {stats.layer}, "
                                    f"but the edit asks for {side} layer {layer}")
    return stats
