"""Transformer-Patcher baseline for NMT on a tiny random Marian (no training, no hub): site, edit, undo."""

import pytest
import torch
from rome_fixtures import tiny_marian

from editlab.errors import ConfigError, EditlabError
from editlab.nmt.tasks import Behaviour, EditRequest
from editlab.nmt.tokenizer import WordTokenizer

WORDS = [f"w{i}" for i in range(37)]  # 3 specials + 37 words = the tiny model's 40 ids


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model():
    """A tiny random Marian with a wide init: at the default std 0.02 every decoder query looks alike, so no
    edit can be local (as `test_tpatcher._reinit` explains)."""
    model = tiny_marian()
    torch.manual_seed(0)
    model.config.init_std = 0.2
    for module in model.modules():
        model._init_weights(module)
    return model.eval()


def _corpus(n: int, seed: int = 0) -> list[tuple[str, str]]:
    gen = torch.Generator().manual_seed(seed)

    def sentence() -> str:
        return " ".join(WORDS[int(i)] for i in torch.randint(0, 37, (int(torch.randint(2, 6, (1,), generator=gen)),),
                                                             generator=gen))
    return [(sentence(), sentence()) for _ in range(n)]


def _params(**kw):
    from editlab.nmt.tpatcher import NmtTPatcherHyperParams

    # The seq2seq reference values, but a weaker memory term and a stop at the first success: a random
    # model's decoder queries are much alike, so the reference mu = 10 leaves the edit unsolved.
    section = {"memory_size": 40, "val_size": 10, "max_steps": 1000, "use_val": False, "memory_coef": 1.0,
               "memory_margin": 0.0, "memory_floor": 0.0, **kw}
    return NmtTPatcherHyperParams.from_config(section)


def test_site_finds_marian_decoder_last_ffn_by_structure_and_refuses_pre_ln_layouts():
    from rome_fixtures import SPECIALS, random_corpus
    from transformers import MBartConfig, MBartForConditionalGeneration

    from editlab.editors.site import BartLastFFN
    from editlab.rome.batches import make_batch

    model = tiny_marian()
    site = BartLastFFN(model)
    last = model.model.decoder.layers[-1]
    assert site.fc_in is last.fc1 and site.fc_out is last.fc2 and site.norm is last.final_layer_norm
    batch = make_batch(random_corpus(4), SPECIALS)
    batch.pop("labels")
    site.check_head(batch)  # the site's head reproduces the decoder output exactly
    torch.manual_seed(0)
    mbart = MBartForConditionalGeneration(MBartConfig(
        vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=32,
        pad_token_id=0, eos_token_id=1, bos_token_id=2, decoder_start_token_id=1)).eval()
    with pytest.raises(EditlabError, match="not BART's post-LN"):  # pre-LN + final decoder LayerNorm
        BartLastFFN(mbart).check_head(batch)


def test_edit_fixes_request_under_hooks_and_undo_restores_everything():
    from editlab.nmt.model import translate
    from editlab.nmt.tokenizer import pair_ids
    from editlab.nmt.tpatcher import NmtTPatcher
    from editlab.rome.batches import predicts_target

    model = _model()
    tok = WordTokenizer(WORDS)
    corpus = _corpus(60)
    patcher = NmtTPatcher(model, tok, _params(), corpus, [Behaviour("contains", tokens=("w1",))], seed=0)
    n_memory = patcher.editor.memory.train.shape[0]
    kept = [t for _, t in corpus if "w1" not in t.split()][:40]  # pairs showing the behaviour are left out
    assert n_memory == sum(len(t.split()) + 1 for t in kept)
    sources = [s for s, _ in corpus[40:50]]
    before = translate(model, tok, sources, max_new_tokens=8)
    request = EditRequest("r0", "w3 w4 w5", 0, 2, "w30 w31", Behaviour("contains", tokens=("w1",)))
    with patcher.active():
        assert translate(model, tok, [request.source], max_new_tokens=8) != [request.target]
        result = patcher.apply(model, request)
        assert result.applied and result.info["n_neurons"] >= 1 and result.info["stopped_early"]
        # Solved on the cached path (teacher forcing) = solved by the full hooked model.
        assert predicts_target(model, pair_ids(tok, request.source, request.target), tok.specials)
        assert translate(model, tok, [request.source], max_new_tokens=8) == [request.target]
        assert patcher.site.bank.n_committed == result.info["n_neurons"]
        assert patcher.editor.memory.train.shape[0] > n_memory  # the edit's queries join the memory
        patcher.undo(model, result)
        assert patcher.site.bank.n_committed == 0 and patcher.editor.memory.train.shape[0] == n_memory
        assert translate(model, tok, sources, max_new_tokens=8) == before
    # Without the hooks the base weights never change.
    assert translate(model, tok, sources, max_new_tokens=8) == before


def test_memory_must_be_non_empty():
    from editlab.nmt.tpatcher import NmtTPatcher

    tok = WordTokenizer(WORDS)
    with pytest.raises(ConfigError, match="nmt.tpatcher.memory_size"):
        NmtTPatcher(tiny_marian(), tok, _params(memory_size=60), _corpus(60), [], seed=0)
    with pytest.raises(ConfigError, match="nmt.tpatcher.lrr"):
        _params(lrr=0.1)


def test_memory_unique_is_refused():
    """The SME-only memory_unique switch: the NMT undo cuts the memory rows, so its configs refuse it."""
    from editlab.nmt.tpatcher import NmtTPatcherHyperParams

    with pytest.raises(ConfigError, match=r"config key 'nmt.tpatcher.memory_unique': not supported"):
        NmtTPatcherHyperParams.from_config({"memory_unique": True})
