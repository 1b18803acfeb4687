"""FT and FT+KL baselines, and editor construction from the config."""

from __future__ import annotations

import pytest
import torch
from test_tpatcher import _setup

from editlab.editors import build_editor
from editlab.editors.ft import FT, FTParams, fine_tune
from editlab.editors.ftkl import FTKL, FTKLParams, kl_rows, kl_to_base
from editlab.editors.tpatcher import TPatcherParams
from editlab.errors import ConfigError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def test_params_from_config_apply_task_overrides():
    section = {"lr": 0.02, "memory_coef": 5.0, "zsre": {"memory_coef": 10.0, "memory_margin": 0.0}}
    fever, zsre = TPatcherParams.from_config(section, "fever"), TPatcherParams.from_config(section, "zsre")
    assert (fever.lr, fever.memory_coef, fever.memory_margin) == (0.02, 5.0, 3.0)
    assert (zsre.lr, zsre.memory_coef, zsre.memory_margin) == (0.02, 10.0, 0.0)


def test_unknown_hyperparameter_and_method_are_config_errors():
    with pytest.raises(ConfigError, match="sme.tpatcher.lrr"):
        TPatcherParams.from_config({"lrr": 1.0}, "fever")
    with pytest.raises(ConfigError, match="unknown SME method"):
        build_editor("rome", {}, "fever", 0)


def test_kl_to_base_zero_on_identical_and_positive_otherwise():
    a = torch.tensor([0.3, -2.0])
    assert kl_to_base(a, a).item() == pytest.approx(0.0, abs=1e-7)
    assert kl_to_base(a, a + 1).item() > 0
    v = torch.randn(3, 5)
    assert kl_to_base(v, v).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_to_base(v, torch.randn(3, 5)).item() > 0


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ft_changes_only_the_patched_ffn_and_stops_when_right(task):
    site, ops, path, examples = _setup(task)
    before = {n: p.clone() for n, p in site.model.named_parameters()}
    editor = FT(FTParams(lr=1e-2, max_steps=300, tune="ffn"), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    wrong = [e for e, ok in zip(examples, path.correct(examples)) if not ok][0]
    out = editor.edit(wrong, 0)
    assert out.n_neurons == 0 and 0 < out.steps < 300
    assert path.correct([wrong]) == [True]
    ffn = {id(p) for p in site.ffn_parameters()}
    for name, p in site.model.named_parameters():
        assert not p.requires_grad
        if id(p) not in ffn:
            assert torch.equal(p, before[name]), name
    assert any(not torch.equal(p, before[n]) for n, p in site.model.named_parameters() if id(p) in ffn)


def test_ft_on_an_already_right_example_takes_no_step():
    site, ops, path, examples = _setup("fever")
    right = [e for e, ok in zip(examples, path.correct(examples)) if ok][0]
    editor = FT(FTParams(tune="ffn"), seed=0)
    editor.prepare(path, [], [])
    assert editor.edit(right, 0).steps == 0


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ftkl_keeps_memory_closer_to_base_than_ft(task):
    drifts = {}
    for name, cls, params in (("ft", FT, FTParams(lr=1e-3, max_steps=300, tune="ffn")),
                              ("ftkl", FTKL, FTKLParams(lr=1e-3, max_steps=300, kl_coef=10.0, kl_memory_size=4, tune="ffn"))):
        torch.manual_seed(0)
        site, ops, path, examples = _setup(task)
        memory = examples[2:]
        rows = path.memory_rows(memory)
        with torch.no_grad():
            base = site.head(rows, False)
        editor = cls(params, seed=0)
        editor.prepare(path, memory, [])
        wrong = [e for e, ok in zip(examples[:2], path.correct(examples[:2])) if not ok]
        steps = [editor.edit(e, i).steps for i, e in enumerate(wrong)]
        with torch.no_grad():
            drifts[name] = kl_to_base(base, site.head(rows, False)).item()
        if name == "ftkl":
            assert len(editor.history) == len(wrong)
        # The KL gradient is 0 at the base weights: an edit fixed in one step cannot show the difference.
        assert sum(steps) > len(steps)
    assert drifts["ftkl"] < drifts["ft"]


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ftkl_history_term_equals_the_per_edit_mean(task):
    """The batched history KL is the mean over sampled past edits of each edit's mean row KL."""
    site, ops, path, examples = _setup(task)
    editor = FTKL(FTKLParams(kl_memory_size=4, kl_history=3, kl_form="mean", tune="ffn"), seed=0)
    editor.prepare(path, examples[:4], [])
    for example in examples[4:9]:   # past edits of different lengths (zsRE: one row per answer token)
        q, _ = path.queries([example])
        rows = q.reshape(-1, q.shape[-1]) if q.dim() == 3 else q
        editor.history.append((rows, editor._base_logits(rows)))
    with torch.no_grad():
        for prm in site.ffn_parameters():
            prm.add_(0.05 * torch.randn_like(prm))
        state = editor.generator.get_state()
        batched = editor._kl()
        editor.generator.set_state(state)
        picks = torch.randperm(len(editor.history), generator=editor.generator)[:3].tolist()
        expected = kl_to_base(editor.memory_base, site.head(editor.memory_rows, False)) + torch.stack(
            [kl_to_base(base, site.head(rows, False)) for rows, base in (editor.history[i] for i in picks)]).mean()
    assert batched.item() > 0
    assert batched.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ft_shortcut_without_dropout_is_exact(task, monkeypatch):
    """Without dropout, FT on one copy with the check folded into the train forward takes the same steps
    and reaches the same weights as 8 copies plus a separate eval check."""
    import test_tpatcher

    monkeypatch.setitem(test_tpatcher.ARCH, "dropout", 0.0)
    site, ops, path, examples = _setup(task)
    assert site.train_mode_is_eval_mode
    wrong = [e for e, ok in zip(examples, path.correct(examples)) if not ok][:2]
    assert wrong
    start = [prm.detach().clone() for prm in site.ffn_parameters()]
    runs = {}
    for shortcut in (False, True):
        with torch.no_grad():
            for prm, w in zip(site.ffn_parameters(), start):
                prm.copy_(w)
        steps = [fine_tune(path, e, 8, 1e-3, 0.0, 200, shortcut=shortcut).steps for e in wrong]
        runs[shortcut] = (steps, [prm.detach().clone() for prm in site.ffn_parameters()])
    assert runs[True][0] == runs[False][0] and sum(runs[True][0]) > 0
    for a, b in zip(runs[True][1], runs[False][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_models_with_dropout_do_not_take_the_ft_shortcut():
    site, *_ = _setup("fever")      # test_tpatcher.ARCH has dropout 0.1
    assert not site.train_mode_is_eval_mode


def test_reference_memory_kl_accumulates_as_the_reference_loop():
    """utils.py:208-217: `kl += KL_b * B`, break once `n + B >= total - past`, else `kl /= n`."""
    from editlab.editors.ftkl import reference_memory_kl

    batches = [(torch.tensor(0.5), 2), (torch.tensor(0.25), 2), (torch.tensor(2.0), 2), (torch.tensor(9.0), 1)]
    # no past edit, total 7: b1 -> 1.0, n=2, 4 < 7: /2 -> 0.5; b2 -> 0.5 + 0.5, n=4, 6 < 7: /4 -> 0.25;
    # b3 -> 0.25 + 4.0, n=6, 8 >= 7: stop (the last division never happens)
    assert reference_memory_kl(iter(batches), 7, 0).item() == pytest.approx(4.25)
    # 3 past edits: 7 - 3 = 4, the first batch already stops the loop: 2 x its KL
    assert reference_memory_kl(iter(batches), 7, 3).item() == pytest.approx(1.0)
    # a loader exhausted before the bound ends after a division
    assert reference_memory_kl(iter(batches[:1]), 100, 0).item() == pytest.approx(0.5)


def _hand_kl_rows(path, site, editor, examples):
    """Per-example KL rows computed one example at a time (FEVER: [CLS]; zsRE: every target position)."""
    out = []
    for example in examples:
        q, enc = path.queries([example])
        rows = q if q.dim() == 2 else q[0][enc.labels[0] != -100]
        out.append(kl_rows(editor._base_logits(rows), site.head(rows, False)))
    return torch.cat(out)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ftkl_kl_term_is_the_reference_value(task):
    """Departure 3: with 6 memory examples (one batch, below the 64 of a reference batch) and loc_num 8, the
    reference loop stops after the first batch before dividing: 6 x the batch's mean KL; past edits add the
    KL summed over the sampled ones divided by the number of all past edits."""
    site, ops, path, examples = _setup(task)
    memory = examples[:6]
    editor = FTKL(FTKLParams(kl_memory_size=8, kl_history=2, tune="ffn"), seed=0)
    editor.prepare(path, memory, [])
    with torch.no_grad():
        for prm in site.ffn_parameters():
            prm.add_(0.05 * torch.randn_like(prm))
        memory_kl = _hand_kl_rows(path, site, editor, memory).mean()
        assert memory_kl.item() > 0
        assert editor._kl().item() == pytest.approx(6 * memory_kl.item(), rel=1e-5)
        for example in examples[:3]:    # three past edits; 8 - 3 = 5 <= 6 + 6: still one batch
            q, enc = path.queries([example])
            rows = q if q.dim() == 2 else q[enc.labels != -100]
            editor.history.append((rows, editor._base_logits(rows)))
        state = editor.generator.get_state()
        value = editor._kl().item()
        editor.generator.set_state(state)
        torch.randperm(len(memory), generator=editor.generator)        # the memory order drawn first
        picks = torch.randperm(3, generator=editor.generator)[:2].tolist()
        history = sum(_hand_kl_rows(path, site, editor, [examples[i]]).mean() for i in picks) / 3
    assert value == pytest.approx(6 * memory_kl.item() + history.item(), rel=1e-5)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_ftkl_base_logit_cache_changes_nothing_but_the_work(task):
    """The f0 logits of drawn memory examples are kept (base_cache_mb) instead of recomputed every step: the
    same edits give bit-identical FFN weights with the cache, with none, and with a budget that holds one."""
    def run(mb):
        site, ops, path, examples = _setup(task)
        editor = FTKL(FTKLParams(lr=1e-3, max_steps=20, kl_memory_size=4, kl_batch_size=2, tune="ffn",
                                 base_cache_mb=mb), seed=0)
        editor.prepare(path, examples[2:], [])
        calls = []
        head = editor._base_logits
        editor._base_logits = lambda rows: calls.append(rows.shape[0]) or head(rows)
        steps = [editor.edit(example, k).steps for k, example in enumerate(examples[:2])]
        sizes = sorted(b.numel() * b.element_size() for b in editor._base_cache.values())
        return [p.detach().clone() for p in site.ffn_parameters()], editor, len(calls), steps, sizes

    full, editor, calls_full, steps, sizes = run(512.0)
    assert sum(steps) > 1 and len(editor._base_cache) >= 2      # examples drawn by the KL batches
    none, editor_none, calls_none, _, _ = run(0.0)
    one, editor_one, calls_one, _, _ = run(sizes[0] / 2 ** 20)
    for weights in (none, one):
        assert all(torch.equal(a, b) for a, b in zip(full, weights))
    assert editor_none._base_bytes == 0 and len(editor_one._base_cache) == 1
    assert calls_full <= calls_one <= calls_none and calls_full < calls_none   # fewer f0 head calls, more kept


def test_ft_tunes_the_reference_weight_set_of_the_last_layer():
    """Departure 4: the reference ft.py:114-124 tunes every weight of layer 11 but biases and norms (BERT: Q, K,
    V, attention output, both FFN matrices); that needs the reference path, the cached one refuses it."""
    site, ops, path, examples = _setup("fever", "reference")
    names = {n for n, p in site.layer.named_parameters() if any(p is q for q in site.tuned_parameters("layer"))}
    assert names == {"attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight",
                     "attention.output.dense.weight", "intermediate.dense.weight", "output.dense.weight"}
    before = {n: p.clone() for n, p in site.model.named_parameters()}
    editor = FT(FTParams(lr=1e-2, max_steps=200), seed=0)
    editor.prepare(path, [], [])
    wrong = [e for e, ok in zip(examples, path.correct(examples)) if not ok][0]
    assert editor.edit(wrong, 0).steps > 0 and path.correct([wrong]) == [True]
    changed = {n for n, p in site.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and changed <= {f"bert.encoder.layer.0.{n}" for n in names}
    _, _, cached, _ = _setup("fever", "cached")
    with pytest.raises(ConfigError, match="sme.ft.tune"):
        FT(FTParams(), seed=0).prepare(cached, [], [])


def test_ftkl_on_the_whole_layer_keeps_the_base_outputs_closer():
    site, ops, path, examples = _setup("zsre", "reference")
    editor = FTKL(FTKLParams(lr=1e-2, max_steps=50, kl_memory_size=8, kl_coef=10.0), seed=0)
    editor.prepare(path, examples[2:], [])
    wrong = [e for e, ok in zip(examples[:2], path.correct(examples[:2])) if not ok][0]
    editor.edit(wrong, 0)
    assert len(editor.history) == 1
    with torch.no_grad():
        assert editor._full_kl(examples[2:]).item() > 0


def test_ft_summed_edit_loss_is_the_references_sum_over_the_copies_tokens():
    """loss_reduction "sum" (scripts/ft.py:198-201): the label-smoothed token loss summed over every target
    token of the 8 copies; one copy standing for the 8 (the shortcut) gives the same value; FEVER stays a mean."""
    import torch.nn.functional as F

    from editlab.editors.ft import edit_loss

    site, ops, path, examples = _setup("zsre")
    one = path.edit_inputs(examples[0], 1)
    eight = path.edit_inputs(examples[0], 8)
    with torch.no_grad():
        logits1, _, enc1 = path.forward(one, training=False)
        logits8 = logits1.expand(8, *logits1.shape[1:])
        labels8 = enc1.labels.expand(8, -1)
        reference = F.cross_entropy(logits8.reshape(-1, logits8.shape[-1]), labels8.reshape(-1), ignore_index=-100,
                                    label_smoothing=ops.label_smoothing, reduction="sum")
        assert int((enc1.labels != -100).sum()) >= 2
        torch.testing.assert_close(edit_loss(ops, logits8, labels8, "sum"), reference)
        torch.testing.assert_close(edit_loss(ops, logits1, enc1.labels, "sum", repeats=8), reference)
        torch.testing.assert_close(edit_loss(ops, logits1, enc1.labels, "mean"), ops.loss(logits1, enc1.labels))
    assert eight.copies.labels.shape[0] == 8
    f_site, f_ops, f_path, f_examples = _setup("fever")
    with torch.no_grad():
        logits, _, enc = f_path.forward(f_path.edit_inputs(f_examples[0], 8), training=False)
        assert edit_loss(f_ops, logits, enc.labels, "sum").item() == f_ops.loss(logits, enc.labels).item()
