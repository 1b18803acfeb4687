"""editlab.export: T-Patcher neurons as FFN units (exact), refusals; the toy NMT tokenizer with AutoTokenizer;
progress lines."""

from __future__ import annotations

import logging

import pytest
import torch

from editlab.errors import EditlabError
from editlab.export import _ffn_stack, widened_model
from editlab.progress import Progress, track
from editlab.tiny_models import build


def _random_patches(site, n: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    bank = site.bank
    d_in, d_out = site.fc_in.in_features, site.fc_out.out_features
    bank.keys = torch.randn(n, d_in, generator=gen)
    bank.biases = torch.randn(n, generator=gen)
    bank.values = torch.randn(n, d_out, generator=gen)
    bank.owner = torch.arange(n)


@pytest.mark.parametrize("kind", ["bert", "bart", "marian"])
def test_neurons_as_units_reproduce_the_hooked_model(kind):
    from editlab.editors.site import BartLastFFN, BertLastFFN

    torch.manual_seed(0)
    model = build(kind, 40).eval()
    site = BertLastFFN(model) if kind == "bert" else BartLastFFN(model)
    _random_patches(site, 3, seed=1)
    ids = torch.randint(4, 40, (2, 7), generator=torch.Generator().manual_seed(2))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if kind != "bert":
        batch["decoder_input_ids"] = ids[:, :5]
    with torch.no_grad():
        base = model(**batch).logits
        with site.patched():
            hooked = model(**batch).logits
        wide = widened_model(model, site)
        got = wide(**batch).logits
    assert float((hooked - base).abs().max()) > 1e-3          # the patches change the outputs
    assert float((got - hooked).abs().max()) <= 1e-5
    attr = "intermediate_size" if kind == "bert" else "decoder_ffn_dim"
    assert getattr(wide.config, attr) == 64 + 3
    if kind != "bert":
        assert wide.config.encoder_ffn_dim == 64                # only the decoder stack widens
    # Every layer but the last got zero units only.
    stack = _ffn_stack(wide)[1]
    first_up = wide.get_submodule(stack[0][0])
    assert torch.equal(first_up.weight[64:], torch.zeros(3, first_up.in_features))


def test_unwritable_models_are_refused():
    t5 = build("t5", 40)
    with pytest.raises(EditlabError, match="cannot write T-Patcher neurons of a T5ForConditionalGeneration"):
        _ffn_stack(t5)


def test_toy_nmt_model_directory_loads_with_auto_classes(tmp_path):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from editlab.nmt.model import MarianArch, build_marian, load_model, save_model
    from editlab.nmt.tokenizer import WordTokenizer

    tok = WordTokenizer.build(["der hund ist gut", "the dog is good"])
    save_model(build_marian(MarianArch(d_model=16, heads=2, ffn_dim=32), len(tok)), tok, tmp_path)
    hf = AutoTokenizer.from_pretrained(tmp_path)
    for text in ("the dog is good", "the cat is good", "der hund"):
        assert hf(text)["input_ids"] == tok.encode_source(text)
        assert hf.decode(hf(text)["input_ids"], skip_special_tokens=True) == tok.decode(tok.encode_source(text))
    assert (hf.pad_token_id, hf.eos_token_id) == (tok.specials.pad_id, tok.eos_id)
    AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    _, loaded = load_model(tmp_path)
    assert isinstance(loaded, WordTokenizer)                    # editlab still reads its own vocabulary


def test_progress_is_a_periodic_log_line_off_a_terminal(caplog):
    log = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        with Progress(1000, "stage", unit="steps", logger=log, every_s=3600, bar=False) as bar:
            for _ in range(1000):
                bar.update(loss=0.5)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1                                       # not a line per step: the final one only
    assert lines[0].startswith("stage: 1000/1000 steps (100%)") and "loss 0.5" in lines[0]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="test.progress"):
        assert list(track(range(5), "every", logger=log, every_s=0, bar=False)) == list(range(5))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 6 and "ETA" in lines[2] and lines[-1].endswith("(done)")


def test_progress_bar_on_a_terminal(capsys):
    with Progress(3, "bar", bar=True) as bar:
        for _ in range(3):
            bar.update(SR=1.0)
    assert "bar" in capsys.readouterr().err
