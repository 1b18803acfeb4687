"""Second-moment statistics: batched/padded streaming equals a direct per-sentence computation."""

import pytest
import torch
from rome_fixtures import SPECIALS, random_corpus, tiny_marian

from editlab.errors import DataFormatError
from editlab.rome.batches import forward_logits, make_batch
from editlab.rome.hooks import capture_input
from editlab.rome.locate import locate_ffn_output
from editlab.rome.stats import load_second_moment, save_second_moment, second_moment

torch.set_num_threads(1)


def _direct(model, locus, corpus):
    keys = []
    for pair in corpus:  # one sentence at a time: no padding involved
        with capture_input(locus.module) as seen, torch.no_grad():
            forward_logits(model, make_batch([pair], SPECIALS))
        keys.append(seen[0][0].double())
    k = torch.cat(keys)
    return sum(torch.outer(row, row) for row in k) / k.shape[0], k.shape[0]


@pytest.mark.parametrize("side, layer", [("encoder", 1), ("decoder", 0)])
def test_second_moment_matches_direct_computation(side, layer):
    model = tiny_marian()
    corpus = random_corpus(13)
    locus = locate_ffn_output(model, side, layer)
    stats = second_moment(model, locus, corpus, SPECIALS, batch_size=4)
    expected, count = _direct(model, locus, corpus)
    n_tokens = sum(len(p.source if side == "encoder" else p.target) for p in corpus)
    assert stats.count == count == n_tokens
    assert stats.matrix.dtype == torch.float64
    torch.testing.assert_close(stats.matrix, expected, rtol=1e-6, atol=1e-9)


def test_cache_round_trip_and_locus_check(tmp_path):
    model = tiny_marian()
    locus = locate_ffn_output(model, "encoder", 0)
    stats = second_moment(model, locus, random_corpus(5), SPECIALS, model_id="tiny")
    path = tmp_path / "encoder_layer0.safetensors"
    save_second_moment(path, stats)
    loaded = load_second_moment(path, "encoder", 0)
    assert torch.equal(loaded.matrix, stats.matrix) and loaded.count == stats.count and loaded.model_id == "tiny"
    with pytest.raises(DataFormatError, match="statistics are for encoder layer 0, but the edit asks for decoder"):
        load_second_moment(path, "decoder", 0)
    with pytest.raises(DataFormatError, match="not found"):
        load_second_moment(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match="bad.safetensors"):
        load_second_moment(tmp_path / "bad.safetensors")
