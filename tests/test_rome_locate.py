"""The locator finds the FFN output projection in Marian, BART and T5 layouts by structure."""

import pytest
import torch

from editlab.errors import EditlabError
from editlab.rome.locate import locate_ffn_output

torch.set_num_threads(1)


def _marian():
    from transformers import MarianConfig, MarianMTModel

    return MarianMTModel(MarianConfig(vocab_size=50, d_model=16, encoder_layers=2, decoder_layers=3,
                                      encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=40,
                                      decoder_ffn_dim=48, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))


def _bart():
    from transformers import BartConfig, BartForConditionalGeneration

    return BartForConditionalGeneration(BartConfig(vocab_size=50, d_model=16, encoder_layers=2, decoder_layers=2,
                                                   encoder_attention_heads=2, decoder_attention_heads=2,
                                                   encoder_ffn_dim=40, decoder_ffn_dim=48))


def _t5(gated: bool):
    from transformers import T5Config, T5ForConditionalGeneration

    # d_kv * heads != d_model: the attention output projection also maps a non-d_model width to d_model.
    return T5ForConditionalGeneration(T5Config(vocab_size=50, d_model=16, d_ff=40, num_layers=2, num_decoder_layers=2,
                                               num_heads=2, d_kv=12,
                                               feed_forward_proj="gated-gelu" if gated else "relu"))


@pytest.mark.parametrize("build, side, layer, name, key_dim", [
    (_marian, "encoder", 1, "model.encoder.layers.1.fc2", 40),
    (_marian, "decoder", 2, "model.decoder.layers.2.fc2", 48),
    (_bart, "encoder", 0, "model.encoder.layers.0.fc2", 40),
    (_bart, "decoder", 1, "model.decoder.layers.1.fc2", 48),
    (lambda: _t5(False), "encoder", 1, "encoder.block.1.layer.1.DenseReluDense.wo", 40),
    (lambda: _t5(False), "decoder", 0, "decoder.block.0.layer.2.DenseReluDense.wo", 40),
    (lambda: _t5(True), "decoder", 1, "decoder.block.1.layer.2.DenseReluDense.wo", 40),
])
def test_locator_finds_ffn_output_projection(build, side, layer, name, key_dim):
    model = build()
    locus = locate_ffn_output(model, side, layer)
    assert locus.name == name
    assert locus.module is model.get_submodule(name)
    assert locus.key_dim == key_dim and locus.value_dim == 16


def test_negative_layer_counts_from_top():
    model = _marian()
    assert locate_ffn_output(model, "decoder", -1).name == "model.decoder.layers.2.fc2"


def test_missing_layer_is_a_clear_error():
    with pytest.raises(EditlabError, match="encoder layer 5 does not exist: the model has 2"):
        locate_ffn_output(_marian(), "encoder", 5)
