"""Turn a task's edit request into the token-id inputs of the rank-one editor (key position, contexts, essence)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from editlab.errors import DataFormatError
from editlab.nmt.model import translate
from editlab.nmt.tasks import EditRequest
from editlab.nmt.tokenizer import NMTTokenizer, pair_ids
from editlab.rome.batches import Seq2SeqIds
from editlab.rome.compute import EditIds
from editlab.rome.hparams import RomeHyperParams


def decoder_position(tok: NMTTokenizer, request: EditRequest) -> int:
    """First target position where the observed negative output departs from the positive target."""
    if request.negative is None:
        raise DataFormatError(f"request {request.id}", "decoder locus needs the observed 'negative' output")
    pos, neg = tok.encode_target(request.target), tok.encode_target(request.negative)
    for i, (a, b) in enumerate(zip(pos, neg)):
        if a != b:
            return i
    return min(len(pos), len(neg)) - 1


def encoder_position(tok: NMTTokenizer, source: str, trigger_end: int) -> int:
    """Index of the trigger's last source token."""
    return tok.source_prefix_length(source, trigger_end) - 1


def build_edit_ids(model: torch.nn.Module, tok: NMTTokenizer, request: EditRequest, hp: RomeHyperParams,
                   prefix_words: Sequence[str], seed: int, device: str = "cpu") -> EditIds:
    """Edit ids with `hp.n_context_variants` random-word prefixes (ROME's random-prefix contexts)."""
    pair = pair_ids(tok, request.source, request.target)
    rng = random.Random(f"{seed}-{request.id}")
    contexts: list[tuple[Seq2SeqIds, int]] = []
    if hp.side == "encoder":
        position = encoder_position(tok, request.source, request.trigger_end)
    else:
        position = decoder_position(tok, request)
    for _ in range(hp.n_context_variants):
        prefix = " ".join(rng.choice(prefix_words) for _ in range(rng.randint(1, hp.max_prefix_words))) + " "
        variant = prefix + request.source
        var_pair = Seq2SeqIds(tok.encode_source(variant), pair.target)
        var_pos = encoder_position(tok, variant, len(prefix) + request.trigger_end) if hp.side == "encoder" else position
        contexts.append((var_pair, var_pos))
    essence = None
    if hp.side == "encoder" and hp.kl_factor > 0:
        trigger = request.source[request.trigger_start : request.trigger_end]
        current = translate(model, tok, [trigger], device=device)[0]
        essence = (pair_ids(tok, trigger, current), encoder_position(tok, trigger, len(trigger)))
    return EditIds(pair=pair, position=position, contexts=contexts, essence=essence)
