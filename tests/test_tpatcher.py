"""Transformer-Patcher unit tests on tiny random models (CPU, seconds)."""

from __future__ import annotations

import math

import pytest
import torch

from editlab.data.records import Example
from editlab.editors.losses import activation_loss, memory_loss, top_k_exp_mean
from editlab.editors.site import ffn_site
from editlab.editors.task_ops import task_ops
from editlab.editors.tpatcher import TPatcher, TPatcherParams, early_stop
from editlab.models.build import tiny_bart, tiny_bert
from editlab.models.tokenizer import train_bart_tokenizer, train_bert_tokenizer
from editlab.sme.paths import execution_path

ARCH = {"hidden_size": 32, "layers": 1, "decoder_layers": 1, "heads": 2, "intermediate_size": 64, "dropout": 0.1}
CLAIMS = [("alice lives in paris", "SUPPORTS"), ("bob works for acme", "REFUTES"), ("carol was born in rome", "SUPPORTS"),
          ("dave lives in oslo", "REFUTES"), ("erin works for initech", "SUPPORTS"), ("frank was born in lima", "REFUTES")]
QUESTIONS = [("where does alice live ?", "paris"), ("who employs bob ?", "acme corp"), ("where was carol born ?", "rome"),
             ("where does dave live ?", "oslo"), ("who employs erin ?", "initech"), ("where was frank born ?", "lima")]


def _reinit(model, std: float):
    """Default inits (std 0.02) give a random tiny model near-identical queries for every input, so no
    edit can be local; a wider init makes inputs distinguishable, as in a trained model."""
    torch.manual_seed(0)
    model.config.initializer_range = std
    model.config.init_std = std
    for module in model.modules():
        model._init_weights(module)
    return model.eval()


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def _fever():
    examples = [Example(f"f{i}", c, (y,), (c + " indeed",)) for i, (c, y) in enumerate(CLAIMS)]
    tok = train_bert_tokenizer([e.input for e in examples] + [r for e in examples for r in e.rephrases])
    model = _reinit(tiny_bert(ARCH, len(tok)), 0.2)
    return model, tok, examples


def _zsre():
    examples = [Example(f"z{i}", q, (a,), (q + " please",)) for i, (q, a) in enumerate(QUESTIONS)]
    tok = train_bart_tokenizer([e.input for e in examples] + [a for e in examples for a in e.answers]
                               + [r for e in examples for r in e.rephrases])
    model = _reinit(tiny_bart(ARCH, len(tok)), 0.2)
    return model, tok, examples


TASKS = {"fever": _fever, "zsre": _zsre}


def _setup(task, path_name="cached"):
    model, tok, examples = TASKS[task]()
    model.requires_grad_(False)
    site = ffn_site(task, model)
    ops = task_ops(task, tok, model, {"max_length": 16})
    return site, ops, execution_path(path_name, site, ops, "cpu"), examples


def test_top_k_exp_mean_by_hand():
    z = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    assert top_k_exp_mean(z, 2).item() == pytest.approx((math.exp(2) + math.exp(1)) / 2)
    assert top_k_exp_mean(z, 10).item() == pytest.approx(sum(math.exp(v) for v in (0, 1, 2, -1)) / 4)


def test_losses_equal_hand_computation():
    edit = torch.tensor([[1.0], [2.0]])                 # 2 copies, 1 neuron
    mem = torch.tensor([[0.5], [-4.0], [-1.0]])         # 3 memory queries
    assert activation_loss(edit, 0.0, 5).item() == pytest.approx((math.exp(-1) + math.exp(-2)) / 2)
    gamma, beta = 3.0, -3.0
    rel = [m - e + gamma for m in (0.5, -4.0, -1.0) for e in (1.0, 2.0)]
    absolute = [m - beta for m in (0.5, -4.0, -1.0) for _ in range(2)]   # once per copy, as the reference
    k = 4
    want = (sum(sorted(math.exp(v) for v in rel)[-k:]) / k) + (sum(sorted(math.exp(v) for v in absolute)[-k:]) / k)
    assert memory_loss(mem, edit, gamma, beta, k, k).item() == pytest.approx(want, rel=1e-6)


def test_memory_loss_shortcut_matches_full_tensor():
    torch.manual_seed(1)
    mem = torch.randn(50, 3, requires_grad=True)
    edit = torch.randn(8, 3, requires_grad=True)
    fast = memory_loss(mem, edit, 3.0, -3.0, 7, 7)
    rel = mem[:, None, :] - edit[None] + 3.0
    naive = top_k_exp_mean(rel, 7) + top_k_exp_mean((mem + 3.0)[:, None, :].expand_as(rel), 7)
    torch.testing.assert_close(fast, naive)
    g_fast = torch.autograd.grad(fast, (mem, edit))
    g_naive = torch.autograd.grad(naive, (mem, edit))
    for a, b in zip(g_fast, g_naive):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("k", [6, 8, 9, 40, 1000])
def test_top_k_exp_mean_of_repeated_entries_equals_the_repeated_tensor(k):
    torch.manual_seed(2)
    z = torch.randn(3, 2, requires_grad=True)
    fast = top_k_exp_mean(z, k, repeats=3)                    # every entry counted 3 times
    naive = top_k_exp_mean(z.reshape(-1).repeat_interleave(3), k)
    torch.testing.assert_close(fast, naive)
    torch.testing.assert_close(torch.autograd.grad(fast, z)[0], torch.autograd.grad(naive, z)[0])


def test_memory_loss_of_one_copy_standing_for_identical_copies():
    torch.manual_seed(3)
    mem = torch.randn(300, 2, requires_grad=True)
    edit = torch.randn(1, 2, requires_grad=True)
    for k in (16, 100, 1000):                                   # k/8 whole, fractional, above M x copies
        fast = memory_loss(mem, edit, 3.0, -3.0, k, k, repeats=8)
        naive = memory_loss(mem, edit.expand(8, 2), 3.0, -3.0, k, k)
        torch.testing.assert_close(fast, naive)
        for a, b in zip(torch.autograd.grad(fast, (mem, edit)), torch.autograd.grad(naive, (mem, edit))):
            torch.testing.assert_close(a, b)


def test_early_stop_rule():
    assert not early_stop([1.0], 0.001, 1)
    assert not early_stop([1.0, 0.5], 0.001, 1)
    assert early_stop([1.0, 0.5, 0.4995], 0.001, 1)     # improvement below the threshold
    assert early_stop([1.0, 1.2], 0.001, 1)


@pytest.mark.parametrize("task", ["fever", "zsre"])
@pytest.mark.parametrize("exponent, expected", [(2.0, "one"), (1.0, "norm")])
def test_new_patch_fires_one_on_its_query(task, exponent, expected):
    site, _, path, examples = _setup(task)
    q, _ = path.queries(examples[:3])
    rows = q.reshape(-1, q.shape[-1])[:3]
    site.bank.add(rows, 0, key_exponent=exponent, value_scale=10.0, generator=torch.Generator().manual_seed(0))
    acts = torch.diagonal(site.bank.new_pre_activation(rows))
    want = torch.ones(3) if expected == "one" else rows.norm(dim=-1)
    torch.testing.assert_close(acts.detach(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_zeroed_patches_reproduce_the_base_model(task):
    site, ops, path, examples = _setup(task)
    enc = path.encode(examples)
    with torch.no_grad():
        base = ops.model_logits(site.model, enc)
        q, _ = path.queries(examples)
        for i in range(2):
            site.bank.add(q.reshape(-1, q.shape[-1])[i:i + 1], i, key_exponent=2.0, value_scale=10.0,
                          generator=torch.Generator().manual_seed(i))
            site.bank.commit()
        with site.patched():
            patched = ops.model_logits(site.model, enc)
        assert (patched - base).abs().max() > 1e-3          # the patches do act...
        site.bank.values.zero_()
        with site.patched():
            zeroed = ops.model_logits(site.model, enc)
        torch.testing.assert_close(zeroed, base, rtol=0, atol=1e-6)   # ...and with v = 0 nothing changes
        torch.testing.assert_close(site.head(q, False), base, rtol=0, atol=1e-5)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_cached_head_equals_full_network_with_patches(task):
    site, ops, path, examples = _setup(task)
    with torch.no_grad():
        q, enc = path.queries(examples)
        site.bank.add(q.reshape(-1, q.shape[-1])[:2], 0, key_exponent=2.0, value_scale=10.0,
                      generator=torch.Generator().manual_seed(0))
        with site.patched():
            full = ops.model_logits(site.model, enc)
        torch.testing.assert_close(site.head(q, False), full, rtol=1e-5, atol=1e-5)


def _edit_params(**kw):
    base = dict(max_steps=60, val_every=10, val_start=20, memory_coef=0.5)
    base.update(kw)
    return TPatcherParams(**base)


@pytest.mark.parametrize("task", ["fever", "zsre"])
@pytest.mark.parametrize("path_name", ["cached", "reference"])
def test_edit_fixes_example_and_earlier_patches_stay_bit_identical(task, path_name):
    site, ops, path, examples = _setup(task, path_name)
    editor = TPatcher(_edit_params(max_steps=200), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    wrong = [e for e, ok in zip(examples, path.correct(examples)) if not ok]
    assert len(wrong) >= 2
    first = editor.edit(wrong[0], 0)
    assert first.n_neurons >= 1 and site.bank.n_committed == first.n_neurons
    assert path.correct([wrong[0]]) == [True]
    frozen = [t.clone() for t in (site.bank.keys, site.bank.biases, site.bank.values)]
    memory_before = editor.memory.train.shape[0]
    assert editor.memory.n_added > 0
    second = editor.edit(wrong[1], 1)
    n = first.n_neurons
    for before, after in zip(frozen, (site.bank.keys, site.bank.biases, site.bank.values)):
        assert torch.equal(after[:n], before)
    assert site.bank.owner.tolist() == [0] * n + [1] * second.n_neurons
    assert editor.memory.train.shape[0] > memory_before


def test_zsre_adds_one_neuron_per_wrong_token_capped():
    site, ops, path, examples = _setup("zsre")
    editor = TPatcher(_edit_params(max_steps=1, max_neurons=2), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    out = editor.edit(examples[1], 0)      # "acme corp": several target tokens, all wrong in a random model
    assert out.n_neurons == 2


def test_cached_and_reference_agree_without_dropout():
    """With dropout off the two paths run the same computation: same losses, same patch weights."""
    results = []
    for path_name in ("cached", "reference"):
        torch.manual_seed(0)
        model, tok, examples = _fever()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        model.requires_grad_(False)
        site = ffn_site("fever", model)
        ops = task_ops("fever", tok, model, {"max_length": 16})
        path = execution_path(path_name, site, ops, "cpu")
        editor = TPatcher(_edit_params(max_steps=30), seed=0)
        editor.prepare(path, examples[3:], examples[4:])
        editor.edit(examples[0], 0)
        results.append(site.bank.keys.clone())
    torch.testing.assert_close(results[0], results[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_cached_single_copy_step_is_exact_without_dropout(task, monkeypatch):
    """Without dropout the 8 training copies are the same example: the cached path runs the head once and
    must take the same steps to the same patches as on 8 copies (zsRE: several neurons per edit, so the
    activation top-k sees each neuron's tied copies).

    The 8-copy run gets the eval queries repeated: a train-mode capture of the copies differs from them by
    round-off, which decides between top-k entries that tie exactly (every new neuron fires 1 on its own
    query at init), so it would test round-off rather than the shortcut."""
    monkeypatch.setitem(ARCH, "dropout", 0.0)
    runs = {}
    for single in (False, True):
        site, ops, _, examples = _setup(task)
        assert site.train_mode_is_eval_mode
        path = execution_path("cached", site, ops, "cpu")
        path.single_copy = single
        if not single:
            capture = path.edit_inputs

            def repeated(example, copies, capture=capture):
                inputs = capture(example, copies)
                q = inputs.eval_queries
                inputs.draws = [q.repeat(copies, *([1] * (q.dim() - 1)))]
                return inputs

            monkeypatch.setattr(path, "edit_inputs", repeated)
        editor = TPatcher(_edit_params(max_steps=200), seed=0)
        editor.prepare(path, examples[3:], examples[4:])
        assert path.edit_inputs(examples[0], 8).identical_copies is single
        wrong = [e for e, ok in zip(examples, path.correct(examples)) if not ok][:2]
        outcomes = [editor.edit(e, i) for i, e in enumerate(wrong)]
        runs[single] = ([(o.n_neurons, o.steps) for o in outcomes], site.bank.keys.clone(), site.bank.values.clone())
    assert runs[True][0] == runs[False][0]
    assert task == "fever" or max(n for n, _ in runs[True][0]) > 1    # zsRE: a multi-neuron edit
    for a, b in zip(runs[True][1:], runs[False][1:]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_speed_comparison_runs_both_paths_on_the_same_mistakes():
    """The edit_speed benchmark's core (no timing asserted): both paths edit the same mistakes for the
    same fixed number of steps, and the ratios are what the seconds say."""
    from editlab.sme.speed import compare_paths, fixed_steps

    def make():
        model, tok, _ = _fever()
        return model, tok

    _, _, examples = _fever()
    out = compare_paths("fever", make, examples, examples[3:], examples[4:], fixed_steps(_edit_params(), 30),
                        {"max_length": 16}, n_edits=2)
    assert out["n_edits"] >= 1 and out["reference_mean_steps"] == out["cached_mean_steps"] == 30
    assert out["ratio"] == pytest.approx(out["reference_s_per_edit"] / out["cached_s_per_edit"])
    assert out["step_ratio"] == pytest.approx(out["reference_s_per_step"] / out["cached_s_per_step"])
    assert out["cached_s_per_step"] == pytest.approx(out["cached_s_per_edit"] / 30)
    # the model has dropout: the stacked draws are timed against one forward per draw
    assert out["stacked_draws_speedup"] == pytest.approx(out["cached_per_draw_s_per_edit"] / out["cached_s_per_edit"])


def test_speed_benchmark_runs_on_the_device_it_is_given():
    """`edit_speed.py --device`: the models and the edits run on that device (here the CPU, named as a string the
    way a GPU would be), the report names it, and a device this machine lacks is a one-line error."""
    import subprocess
    import sys

    from conftest import REPO

    from editlab.errors import EditlabError
    from editlab.sme.speed import check_device, compare_paths, fixed_steps, speed_report

    with pytest.raises(EditlabError, match="not a torch device"):
        speed_report({"sme": {}}, None, tasks=[], device="gpu0")
    seen = []

    def make():
        model, tok, _ = _fever()
        seen.append(model)
        return model, tok

    _, _, examples = _fever()
    out = compare_paths("fever", make, examples, examples[3:], examples[4:], fixed_steps(_edit_params(), 5),
                        {"max_length": 16}, n_edits=1, device="cpu:0")
    assert out["n_edits"] == 1 and out["device"] == "cpu:0" and "gpu" not in out
    assert all(p.device.type == "cpu" for m in seen for p in m.parameters())
    if not torch.cuda.is_available():
        with pytest.raises(EditlabError, match="sees no CUDA GPU"):
            check_device("cuda")
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks/edit_speed.py"), "--device", "cuda",
                               "--tasks", "fever_base"], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith(
            "edit_speed.py: device 'cuda': torch"), proc.stderr
        assert "Traceback" not in proc.stderr
    with pytest.raises(EditlabError, match="not a torch device"):
        check_device("gpu0")


def test_cached_training_steps_cycle_through_the_dropout_draws():
    """With dropout the cached path captures `dropout_draws` train-mode versions of the 8 copies once per
    edit and the training forwards cycle through them (the reference draws anew every step); evaluation
    forwards use the clean eval-mode queries."""
    site, ops, _, examples = _setup("fever")       # ARCH has dropout 0.1
    assert not site.train_mode_is_eval_mode
    path = execution_path("cached", site, ops, "cpu")
    path.dropout_draws = 3
    inputs = path.edit_inputs(examples[0], 8)
    assert len(inputs.draws) == 3 and not torch.equal(inputs.draws[0], inputs.draws[1])
    seen = [path.forward(inputs, training=True, static_ffn=True)[1] for _ in range(4)]
    for got, d in zip(seen, (0, 1, 2, 0)):
        assert got is inputs.draws[d]
    assert path.forward(inputs, training=False)[1] is inputs.eval_queries
    with torch.no_grad():   # the 5th training forward: draw 1 with its own cached FFN output
        torch.manual_seed(5)
        logits = path.forward(inputs, training=True, static_ffn=True)[0]
        torch.manual_seed(5)
        expected = site.head(inputs.draws[1], True, site.fixed_ffn_output(inputs.draws[1]))
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_cached_dropout_draws_come_from_one_stacked_forward(task):
    """The draws of one edit are one train-mode forward of draws x copies rows when `batch_size` allows
    (issue 15: on a GPU the draws cost about one pass), and `draws_per_forward=1` is one forward each; both
    give `dropout_draws` distinct draws shaped like the copies' eval queries."""
    site, ops, _, examples = _setup(task)       # ARCH has dropout 0.1
    calls = []
    capture = site.capture
    site.capture = lambda batch, training: calls.append(len(next(iter(batch.values())))) or capture(batch, training)
    for per, expected in ((None, [16 * 8]), (1, [8] * 16), (6, [48, 48, 32])):
        calls.clear()
        path = execution_path("cached", site, ops, "cpu", batch_size=256, dropout_draws=16, draws_per_forward=per)
        inputs = path.edit_inputs(examples[0], 8)
        assert calls[1:] == expected          # calls[0]: the eval-mode query of the single example
        assert len(inputs.draws) == 16
        shape = (8, *inputs.eval_queries.shape[1:])
        assert all(d.shape == shape for d in inputs.draws)
        assert not torch.equal(inputs.draws[0], inputs.draws[1])
        assert not torch.equal(inputs.draws[0][0], inputs.draws[0][1])     # each copy its own dropout
    calls.clear()
    path = execution_path("cached", site, ops, "cpu", batch_size=40, dropout_draws=16)
    path.edit_inputs(examples[0], 8)
    assert calls[1:] == [40, 40, 40, 8]       # 5 draws of 8 rows fit a 40-row batch


def _reference_memory_loss(memory_acts, edit_acts, gamma, beta, k):
    """The reference's memory loss built literally (patch.py:64-88, 197-204): the memory activations
    stacked once per row of the edit batch, flattened, exp, top-k, mean."""
    his = torch.stack([memory_acts for _ in range(edit_acts.shape[0])], dim=0).transpose(0, 1)  # [M, B, n]
    rel = torch.exp((his - edit_acts[None] + gamma).reshape(-1))
    absolute = torch.exp((his - beta).reshape(-1))
    return torch.topk(rel, min(k, rel.numel()))[0].mean() + torch.topk(absolute, min(k, absolute.numel()))[0].mean()


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_validation_memory_loss_is_taken_on_the_eight_copy_batch(task):
    """Departure 1: the stopping check's memory loss equals the reference's value on the 8-copy eval batch
    (with k = 3 < 8 x 2 memory rows a one-copy loss differs)."""
    site, ops, path, examples = _setup(task)
    params = _edit_params(max_steps=40, val_every=10, val_start=1000, memory_top_k=3)   # last step is a check
    editor = TPatcher(params, seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    val_memory = editor.memory.val.clone()
    with torch.no_grad():
        logits, _, enc = path.forward(path.edit_inputs(examples[1], 8), training=False)
    positions = ops.wrong_positions(logits[0], enc.labels[0])[:params.max_neurons]
    out = editor.edit(examples[1], 0)
    q, _ = path.queries([examples[1]])
    acts = site.bank.pre_activation(q)                     # the committed neurons = the state at the last check
    # FEVER: [1, 1]; zsRE: neuron i at its own wrong position (as T-Patcher keys it)
    edit_acts = acts if task == "fever" else torch.stack([acts[0, p, i] for i, p in enumerate(positions)])[None]
    edit8 = edit_acts.expand(8, -1)
    want = _reference_memory_loss(val_memory @ site.bank.keys.T + site.bank.biases, edit8,
                                  params.memory_margin, params.memory_floor, 3)
    assert out.info["val_losses"]["memory"] == pytest.approx(float(want), rel=1e-5)
    one_copy = _reference_memory_loss(val_memory @ site.bank.keys.T + site.bank.biases, edit_acts,
                                      params.memory_margin, params.memory_floor, 3)
    assert abs(float(one_copy) - float(want)) > 1e-3 * float(want)   # the test can tell the two apart


@pytest.mark.parametrize("task", ["fever", "zsre"])
def test_memory_grows_by_the_eight_copy_edit_batch(task):
    """Departure 2: after an edit both memories gain the eval-mode queries of the 8-copy batch: FEVER 8 rows,
    zsRE 8T - 2 (every decoder position of every copy, the first and the last row dropped)."""
    site, ops, path, examples = _setup(task)
    editor = TPatcher(_edit_params(max_steps=20), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    n_train, n_val = editor.memory.train.shape[0], editor.memory.val.shape[0]
    editor.edit(examples[1], 0)
    q, enc = path.queries([examples[1]])
    rows = q if task == "fever" else q[enc.batch["decoder_attention_mask"].bool()]
    want = rows.repeat(8, 1) if task == "fever" else rows.repeat(8, 1)[1:-1]
    assert want.shape[0] == (8 if task == "fever" else 8 * rows.shape[0] - 2)
    assert editor.memory.n_added == want.shape[0]
    torch.testing.assert_close(editor.memory.train[n_train:], want)
    torch.testing.assert_close(editor.memory.val[n_val:], want)


def test_fever_classifier_reads_the_pooled_vector_without_dropout():
    """Departure 5: the reference BertClassifier (class_modules.py:639-646) has no dropout before the
    classifier; `base.fever.model.classifier_dropout` brings it back."""
    from editlab.models.build import new_base_model

    arch = dict(ARCH, vocab_min_frequency=1)
    model, _ = new_base_model("fever", {"source": "scratch", "arch": arch}, [c for c, _ in CLAIMS])
    assert model.dropout.p == 0.0 and model.bert.encoder.layer[0].output.dropout.p == 0.1
    model, _ = new_base_model("fever", {"source": "scratch", "arch": arch, "classifier_dropout": 0.1},
                              [c for c, _ in CLAIMS])
    assert model.dropout.p == 0.1


def _stream_of_edits(task, unique, n_edits=4, top_k=1000):
    """`n_edits` sequential edits of the fixture's examples (the memory grows after each)."""
    site, ops, path, examples = _setup(task)
    editor = TPatcher(_edit_params(max_steps=60, memory_unique=unique, memory_top_k=top_k), seed=0)
    editor.prepare(path, examples[3:], examples[4:])
    outcomes = [editor.edit(examples[i % len(examples)], i) for i in range(n_edits)]
    return site, editor, outcomes


@pytest.mark.parametrize("task", ["fever", "zsre"])
@pytest.mark.parametrize("top_k", [1000, 6])   # 6: fewer than the memory rows, the loss reads only the largest
def test_distinct_memory_rows_give_the_same_edits(task, top_k):
    """memory_unique (config/scale.yaml): the memory loss runs on the distinct rows of each edit's update (its
    copies repeat the same queries) and repeats their pre-activations, so the memory loss is the same and
    the stream makes the same edits; only the order in which the gradient sums the repeated rows differs."""
    site_a, full, out_a = _stream_of_edits(task, unique=False, top_k=top_k)
    site_b, unique, out_b = _stream_of_edits(task, unique=True, top_k=top_k)
    assert [(o.n_neurons, o.steps, o.info["stopped_early"]) for o in out_a] == \
           [(o.n_neurons, o.steps, o.info["stopped_early"]) for o in out_b]
    assert torch.equal(full.memory.train, unique.memory.train) and torch.equal(full.memory.val, unique.memory.val)
    for name in ("keys", "biases", "values"):
        torch.testing.assert_close(getattr(site_a.bank, name), getattr(site_b.bank, name), rtol=1e-5, atol=1e-6)
    # The distinct rows are far fewer: FEVER one row per edit instead of 8, zsRE T instead of 8T - 2.
    distinct, index = unique.memory._distinct["train"]
    n_base = unique.memory.train.shape[0] - unique.memory.n_added
    assert distinct.shape[0] - n_base <= unique.memory.n_added // 7
    assert torch.equal(distinct[index], unique.memory.train)
    # The largest pre-activations read off the distinct rows are those of all rows.
    keys = torch.randn(3, distinct.shape[1])
    top = unique.memory.pre_activation("train", lambda rows: rows @ keys.T, top=10)
    torch.testing.assert_close(top, torch.topk(unique.memory.train @ keys.T, 10, dim=0).values, rtol=1e-6, atol=1e-6)
    # Loss and gradient of a new patch against the grown memory: equal up to summation order.
    grads = []
    for site, editor in ((site_a, full), (site_b, unique)):
        torch.manual_seed(1)
        keys = torch.nn.Parameter(torch.randn(3, site.bank.keys.shape[1]))
        acts = editor.memory.pre_activation("train", lambda rows, keys=keys: rows @ keys.T, top=12)
        loss = memory_loss(acts, torch.ones(1, 3), 3.0, -3.0, 12, 12, 8)
        loss.backward()
        grads.append((loss.detach(), keys.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-6, atol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)


def test_distinct_memory_survives_a_resume():
    """A resumed editor re-adds the memory edit by edit, so its distinct rows are those of the unstopped one."""
    site, editor, _ = _stream_of_edits("zsre", unique=True, n_edits=3)
    snap = editor.snapshot()
    site2, ops2, path2, examples2 = _setup("zsre")
    again = TPatcher(_edit_params(max_steps=60, memory_unique=True), seed=0)
    again.prepare(path2, examples2[3:], examples2[4:])
    again.restore(snap, [])
    for name in ("train", "val"):
        for a, b in zip(editor.memory._distinct[name], again.memory._distinct[name]):
            assert torch.equal(a, b)
    assert again.memory.sizes == editor.memory.sizes and again.memory.n_added == editor.memory.n_added


def test_append_rows_is_cat_and_keeps_earlier_views():
    """The memory's growth buffer: every append gives torch.cat's values; a prefix (the NMT undo truncates
    the memory this way) is appended to as torch.cat would, and views taken earlier keep their rows."""
    from editlab.editors.tpatcher import append_rows

    torch.manual_seed(0)
    grown = want = torch.randn(5, 3)
    views = []
    for i in range(40):
        rows = torch.randn(i % 7, 3)
        grown, want = append_rows(grown, rows), torch.cat([want, rows])
        assert torch.equal(grown, want)
        views.append((grown, want.clone()))
    grown, want = grown[:20], want[:20]                  # truncated, then grown again
    grown, want = append_rows(grown, torch.ones(9, 3)), torch.cat([want, torch.ones(9, 3)])
    assert torch.equal(grown, want)
    for view, rows in views[:3]:
        assert torch.equal(view, rows)
