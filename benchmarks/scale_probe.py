"""Cost of one T-Patcher edit and one checkpoint as a stream grows (config/scale.yaml; docs/scaling.md).

A timing probe, not a result: mini-shaped models (the profile's base.<task>.model.arch) with random weights, on
synthetic examples, grown to n edits the way a stream grows them (one patch per edit committed to the bank,
each edit's 8-copy memory update appended to both memories), then a few edits of a fixed number of steps
(random weights never converge as trained ones do) and one ER/TrainR/TestR checkpoint are timed. Prints
milliseconds per step and seconds per checkpoint at each n, with the memory loss on every row and on the
distinct rows (`memory_unique`). Multiply by a run's steps per edit to estimate its seconds per edit.
Times are CPU seconds of this process (one torch thread), so that a shared, loaded machine still gives the
figure of one idle core.

    python benchmarks/scale_probe.py --task zsre --points 0 100 1000 2000
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from editlab.config import load_config
from editlab.editors.site import ffn_site
from editlab.editors.task_ops import task_ops
from editlab.editors.tpatcher import TPatcher, TPatcherParams, memory_update_rows
from editlab.models.build import tiny_bart, tiny_bert
from editlab.models.tokenizer import train_bart_tokenizer, train_bert_tokenizer
from editlab.sme.paths import execution_path
from editlab.sme.speed import synthetic_examples

REPO = Path(__file__).resolve().parents[1]


def _model(task: str, arch: dict, corpus: list[str]):
    tok = train_bert_tokenizer(corpus) if task == "fever" else train_bart_tokenizer(corpus)
    model = (tiny_bert if task == "fever" else tiny_bart)(arch, len(tok))
    torch.manual_seed(0)
    model.config.initializer_range = model.config.init_std = 0.2   # distinguishable queries, as trained ones
    for module in model.modules():
        model._init_weights(module)
    return model.eval().requires_grad_(False), tok


def probe(task: str, points: list[int], steps: int, edits: int, unique: bool, config: dict,
          neurons: int = 1) -> list[dict]:
    sme, base = config["sme"], config["base"][task]
    n_memory, n_eval = config["splits"][task]["memory_size"], config["splits"][task]["trainr_size"]
    examples = synthetic_examples(task, n_memory + 2 * n_eval + max(points) + edits)
    corpus = [t for e in examples for t in (e.input, *e.answers, *e.rephrases)]
    model, tok = _model(task, base["model"]["arch"], corpus)
    site = ffn_site(task, model)
    path = execution_path("cached", site, task_ops(task, tok, model, dict(base["train"])), "cpu",
                          int(sme.get("eval_batch_size", 256)))
    memory, trainr = examples[:n_memory], examples[n_memory:n_memory + n_eval]
    test = examples[n_memory + n_eval:n_memory + 2 * n_eval]
    stream = examples[n_memory + 2 * n_eval:]
    path.register_set("trainr", trainr)
    path.register_set("test", test)
    params = replace(TPatcherParams.from_config(sme["tpatcher"], task), max_steps=steps, val_start=steps,
                     memory_unique=unique, max_neurons=neurons)
    editor = TPatcher(params, seed=0)
    editor.prepare(path, memory, memory)
    bank, grown, out = site.bank, 0, []
    for point in sorted(points):
        while grown < point:   # one committed patch and one memory update per edit, as a stream adds them
            inputs = path.edit_inputs(stream[grown], params.copies)
            init = inputs.eval_queries[0, :1] if inputs.eval_queries.dim() == 3 else inputs.eval_queries
            bank.add(init, grown, key_exponent=params.key_exponent, value_scale=params.value_scale,
                     generator=editor.generator)
            bank.commit()
            editor.memory.add(memory_update_rows(inputs.eval_queries, inputs.single, params.copies))
            grown += 1
        snapshot = (bank.keys, bank.biases, bank.values, bank.owner, editor.memory.train, editor.memory.val,
                    dict(editor.memory._distinct), dict(editor.memory._counts), editor.memory.n_added,
                    list(editor.memory.sizes))
        start = time.process_time()
        for i in range(edits):
            editor.edit(stream[point + i], point + i)
        per_edit = (time.process_time() - start) / edits
        start = time.process_time()
        path.set_correct("trainr")
        path.set_correct("test")
        path.correct(stream[:point])   # ER over the edits so far (the runner caches its full chunks)
        checkpoint = time.process_time() - start
        # back to the grown state: the timed edits must not count as growth
        (bank.keys, bank.biases, bank.values, bank.owner, editor.memory.train, editor.memory.val,
         editor.memory._distinct, editor.memory._counts, editor.memory.n_added, editor.memory.sizes) = snapshot
        row = {"task": task, "memory_unique": unique, "n_patches": point,
               "memory_rows": int(editor.memory.train.shape[0]), "ms_per_step": 1000 * per_edit / steps,
               "checkpoint_s": checkpoint}
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "scale.yaml"))
    parser.add_argument("--task", choices=("fever", "zsre"), default="zsre")
    parser.add_argument("--points", type=int, nargs="+", default=[0, 100, 1000, 2000])
    parser.add_argument("--steps", type=int, default=50, help="steps per timed edit")
    parser.add_argument("--edits", type=int, default=2, help="timed edits per point")
    parser.add_argument("--unique", choices=("both", "on", "off"), default="both")
    parser.add_argument("--neurons", type=int, default=1,
                        help="zsRE: neurons per timed edit (a random model gets every token wrong; the mini "
                             "zsRE streams add 1.00 per edit)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config(args.config)
    for unique in {"both": (False, True), "on": (True,), "off": (False,)}[args.unique]:
        probe(args.task, args.points, args.steps, args.edits, unique, config, args.neurons)


if __name__ == "__main__":
    main()
