"""The rank-one update: W'k = v*, rank 1, no-op for solved requests, exact revert, both key modes."""

import pytest
import torch
from rome_fixtures import SPECIALS, random_corpus, tiny_marian

from editlab.errors import EditlabError
from editlab.rome.batches import Seq2SeqIds, forward_logits, make_batch, predicts_target
from editlab.rome.compute import EditIds, average_key, keys_at, output_at
from editlab.rome.editor import apply_rome, rank_one_delta, revert
from editlab.rome.hparams import RomeHyperParams
from editlab.rome.locate import locate_ffn_output
from editlab.rome.stats import second_moment

torch.set_num_threads(1)


def test_rank_one_delta_closed_form():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(6, 10, generator=gen)
    b = torch.randn(6, generator=gen)
    a = torch.randn(10, 10, generator=gen, dtype=torch.float64)
    c = a @ a.T + 0.1 * torch.eye(10, dtype=torch.float64)
    k_star, k_cur, v_star = torch.randn(10, generator=gen), torch.randn(10, generator=gen), torch.randn(6, generator=gen)
    delta = rank_one_delta(w, b, c, k_star, k_cur, v_star)
    torch.testing.assert_close((w + delta) @ k_cur + b, v_star, atol=1e-4, rtol=0)
    assert torch.linalg.matrix_rank(delta.double(), rtol=1e-5) == 1  # float32 rounding floor
    # The row space is C⁻¹k*: keys C-orthogonal to k* are left alone.
    u = torch.linalg.solve(c, k_star.double())
    other = torch.randn(10, dtype=torch.float64, generator=gen)
    other -= (other @ u) / (k_star.double() @ u) * k_star.double()  # uᵀ other = 0
    torch.testing.assert_close(delta.double() @ other, torch.zeros(6, dtype=torch.float64), atol=1e-5, rtol=0)


def test_singular_update_is_a_clear_error():
    with pytest.raises(EditlabError, match="mom2_ridge"):
        rank_one_delta(torch.zeros(2, 2), None, torch.eye(2, dtype=torch.float64), torch.tensor([1.0, 0.0]),
                       torch.tensor([0.0, 1.0]), torch.ones(2))


def _setup(side, layer, key_mode, n_contexts=3):
    model = tiny_marian()
    hp = RomeHyperParams(side=side, layer=layer, key_mode=key_mode, v_num_grad_steps=5, mom2_ridge=0.01)
    locus = locate_ffn_output(model, side, layer)
    stats = second_moment(model, locus, random_corpus(40), SPECIALS)
    source = [5, 6, 7, 8, 1]
    target = [9, 10, 11, 1]
    position = 2 if side == "encoder" else 1
    contexts = [(Seq2SeqIds([12 + i] + source, target), position + 1 if side == "encoder" else position)
                for i in range(n_contexts)]
    essence = (Seq2SeqIds([7, 1], [13, 1]), 0) if side == "encoder" else None
    edit = EditIds(Seq2SeqIds(source, target), position, contexts, essence)
    return model, hp, locus, stats, edit


@pytest.mark.parametrize("side, layer", [("encoder", 1), ("decoder", 0)])
def test_rome_maps_edit_key_to_v_star_with_rank_one_change(side, layer):
    model, hp, locus, stats, edit = _setup(side, layer, "rome")
    before = locus.module.weight.detach().clone()
    k_edit = keys_at(model, locus, [(edit.pair, edit.position)], SPECIALS)[0]
    result = apply_rome(model, edit, hp, stats, SPECIALS)
    assert result.applied
    delta = (locus.module.weight.detach() - before).double()
    assert torch.linalg.matrix_rank(delta, rtol=1e-5) == 1
    # The key at the edited layer is computed below the projection, so the edit does not move it.
    torch.testing.assert_close(keys_at(model, locus, [(edit.pair, edit.position)], SPECIALS)[0], k_edit)
    after = output_at(model, locus, (edit.pair, edit.position), SPECIALS)
    torch.testing.assert_close(after, result.v_star, atol=1e-4, rtol=0)


def test_r_rome_maps_the_averaged_key_to_v_star():
    model, hp, locus, stats, edit = _setup("encoder", 1, "r-rome")
    k_avg = average_key(model, locus, edit, SPECIALS)
    result = apply_rome(model, edit, hp, stats, SPECIALS)
    torch.testing.assert_close(result.k_cur, k_avg)
    w, b = locus.module.weight.detach(), locus.module.bias.detach()
    torch.testing.assert_close(w @ k_avg + b, result.v_star, atol=1e-4, rtol=0)
    # ... which differs from the edit's own key, so ROME and r-ROME really are different updates.
    k_edit = keys_at(model, locus, [(edit.pair, edit.position)], SPECIALS)[0]
    assert not torch.allclose(k_avg, k_edit)


def test_revert_is_bit_exact():
    model, hp, locus, stats, edit = _setup("encoder", 0, "rome")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    result = apply_rome(model, edit, hp, stats, SPECIALS)
    assert not torch.equal(locus.module.weight, state[f"{locus.name}.weight"])
    revert(model, result)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_request_already_produced_leaves_weights_unchanged():
    model, hp, locus, stats, edit = _setup("encoder", 1, "rome")
    with torch.no_grad():  # make the model answer every source with an immediate EOS
        model.final_logits_bias[0, 1] = 1e4
    solved = EditIds(Seq2SeqIds(edit.pair.source, [1]), edit.position, edit.contexts, edit.essence)
    assert predicts_target(model, solved.pair, SPECIALS)
    before = locus.module.weight.detach().clone()
    result = apply_rome(model, solved, hp, stats, SPECIALS)
    assert not result.applied and result.weight_before is None
    assert torch.equal(locus.module.weight, before)
    revert(model, result)  # reverting a no-op is a no-op
    assert torch.equal(locus.module.weight, before)


def test_edit_makes_the_model_produce_the_target():
    model, hp, locus, stats, edit = _setup("decoder", 1, "rome")
    hp = RomeHyperParams(side="decoder", layer=1, v_num_grad_steps=60, clamp_norm_factor=50, v_weight_decay=0.0,
                         mom2_ridge=0.01, n_context_variants=0)
    edit = EditIds(edit.pair, 0)
    assert not predicts_target(model, edit.pair, SPECIALS)
    result = apply_rome(model, edit, hp, stats, SPECIALS)
    logits = forward_logits(model, make_batch([edit.pair], SPECIALS))
    assert result.applied and logits[0, 0].argmax() == edit.pair.target[0]


def test_value_search_takes_one_adam_step_fewer_than_its_iterations(monkeypatch):
    """ROME's compute_v evaluates the loss at every iteration but steps only before the last (19 of 20)."""
    from editlab.rome.compute import compute_value

    model, _, locus, _, edit = _setup("decoder", 1, "rome")
    hp = RomeHyperParams(side="decoder", layer=1, v_num_grad_steps=5, v_loss_stop=-1.0)
    steps = []
    original = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: steps.append(1) or original(self, *a, **k))
    search = compute_value(model, locus, edit, hp, SPECIALS)
    assert len(search.losses) == 5 and len(steps) == 4
