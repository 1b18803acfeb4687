"""Transformer-Patcher (Huang et al., ICLR 2023) as the reference code runs it (docs/design.md §6).

Every reference quirk is a field here with the reference value as default; docs/methods/
transformer_patcher.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from editlab.config import from_section, param
from editlab.data.records import Example
from editlab.editors.base import EditOutcome, merged_section
from editlab.editors.losses import activation_loss, memory_loss
from editlab.editors.task_ops import Encoded


@dataclass(frozen=True)
class TPatcherParams:
    """Every reference quirk a field, the reference (FEVER) value its default; the config section
    sme.tpatcher (keys fever/zsre override per task) and nmt.tpatcher. The schema is generated from here."""

    copies: int = param(8, "edit example repeated in one train-mode batch (reference 8)", minimum=1)
    lr: float = param(1e-2, exclusiveMinimum=0)
    weight_decay: float = param(0.01, minimum=0)
    grad_clip: float = param(5.0, exclusiveMinimum=0)
    max_steps: int = param(2000, minimum=1)
    # Lightning check_val_every_n_epoch (one epoch = one step)
    val_every: int = param(25, "validation every N steps (reference 25)", minimum=1)
    val_start: int = param(100, "stopping checks from 0-based step index >= this (reference 100)", minimum=0)
    lr_factor: float = param(0.5, "ReduceLROnPlateau on the edit's eval loss", exclusiveMinimum=0, maximum=1)
    lr_patience: int = param(1, minimum=0)
    lr_threshold: float = param(0.05, minimum=0)
    use_val: bool = param(True, "true: stop on the val-memory loss; false: at the first success")
    early_threshold: float = param(0.001, minimum=0)
    early_patience: int = param(1, minimum=1)
    act_coef: float = param(1.0, "alpha", minimum=0)
    memory_coef: float = param(5.0, "mu (reference FEVER 5, zsRE 10)", minimum=0)
    act_margin: float = param(0.0, "m_a")
    act_top_k: int = param(5, minimum=1)
    memory_top_k: int = param(1000, minimum=1)
    memory_margin: float = param(3.0, "gamma (paper 3; reference zsRE 0)")
    memory_floor: float = param(-3.0, "beta (paper -3; reference zsRE 0)")
    key_exponent: float = param(2.0, "k = q/|q|^p: reference 2 (a(q)=1), paper text 1")
    value_scale: float = param(10.0, "init of the value scale s (reference amplify_con 10)")
    max_neurons: int = param(5, "zsRE: at most this many neurons per edit (one per wrong target token)", minimum=1)
    update_memory: bool = param(True, "append each edit's queries to both memories")
    memory_unique: bool = param(False, "compute the memory loss's pre-activations once per distinct row of an "
                                "edit's memory update (its copies repeat the same rows: 8x fewer rows) and "
                                "repeat them: the same loss, its gradient summed in another order (round-off); "
                                "for streams of thousands of edits (config/scale.yaml)")

    @classmethod
    def from_config(cls, section: Mapping[str, Any], task: str) -> TPatcherParams:
        return from_section(cls, merged_section(section, task), "sme.tpatcher")


def early_stop(history: Sequence[float], threshold: float, patience: int) -> bool:
    """The reference rule: stop once the best (lowest) value is more than `patience` checks old."""
    best = 0
    for i, value in enumerate(history):
        if value < history[best] - threshold:
            best = i
    return best < len(history) - patience


def memory_update_rows(eval_queries: torch.Tensor, single: Encoded, copies: int) -> torch.Tensor:
    """The rows an edit appends to both memories, as the reference's `memorize(update=True)`: the eval-mode
    queries of the whole `copies`-row edit batch (T-patch.py:103). FEVER: the [CLS] query once per copy
    (class_modules.py:181); zsRE: every decoder position of every copy, flattened, without the first and the
    last row (seq2seq_modules.py:201, `[1:-1]`), i.e. copies x T - 2 rows."""
    if eval_queries.dim() == 2:
        return eval_queries.repeat(copies, 1)
    mask = single.batch["decoder_attention_mask"].bool()
    return eval_queries[mask].repeat(copies, 1)[1:-1]


def append_rows(current: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """`torch.cat([current, rows])`, the same values, at amortised cost of `rows` alone: the result is a prefix
    view of a buffer with spare capacity (doubling), which the next call fills in place. The memory grows
    by every edit, so copying all of it per edit would cost the square of the stream length. A view taken
    earlier keeps its rows, unless the tensor was cut below its end and grown again (the NMT undo cuts the
    memory, and keeps no longer view)."""
    n, extra = int(current.shape[0]), int(rows.shape[0])
    base = current._base
    if (base is not None and current.is_contiguous() and base.is_contiguous() and base.dtype == current.dtype
            and base.data_ptr() == current.data_ptr() and base.shape[1:] == current.shape[1:]
            and base.shape[0] >= n + extra):
        base[n:n + extra] = rows
        return base[:n + extra]
    buffer = torch.empty((max(n + extra, 2 * n, 16), *current.shape[1:]), dtype=current.dtype, device=current.device)
    buffer[:n] = current
    buffer[n:n + extra] = rows
    return buffer[:n + extra]


@dataclass
class PatchMemory:
    """Queries the new neurons must stay silent on; grows by each edit's own queries.

    `unique`: besides the rows themselves, each memory keeps its distinct rows and, per row, the distinct
    row it repeats (an edit's update repeats the same queries once per copy), so that `pre_activation`
    runs on the distinct rows only. Rows are deduplicated within one `add` (one edit), so that a resumed
    stream, which re-adds edit by edit (`sizes`), sums in the same order as one that was never stopped.
    """

    train: torch.Tensor
    val: torch.Tensor
    n_added: int = 0
    unique: bool = False
    sizes: list[int] = field(default_factory=list)     # rows of each `add`, in order
    # unique: per memory, its distinct rows, the distinct row of each of its rows, and each distinct row's count
    _distinct: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict, repr=False)
    _counts: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.unique:
            for name in ("train", "val"):
                rows = getattr(self, name)
                self._distinct[name] = (rows, torch.arange(rows.shape[0], device=rows.device))
                self._counts[name] = torch.ones(rows.shape[0], dtype=torch.long, device=rows.device)

    def add(self, rows: torch.Tensor) -> None:
        self.train = append_rows(self.train, rows)
        self.val = append_rows(self.val, rows)
        self.n_added += int(rows.shape[0])
        self.sizes.append(int(rows.shape[0]))
        if self.unique:
            distinct, inverse = torch.unique(rows, dim=0, return_inverse=True)
            counts = torch.bincount(inverse, minlength=distinct.shape[0])
            for name, (have, index) in self._distinct.items():
                self._distinct[name] = (append_rows(have, distinct), append_rows(index, inverse + have.shape[0]))
                self._counts[name] = append_rows(self._counts[name], counts)

    def pre_activation(self, name: str, fn: Callable[[torch.Tensor], torch.Tensor], top: int | None = None
                       ) -> torch.Tensor:
        """`fn` (row-wise, [rows, d] -> [rows, n]) on the rows of memory `name` ("train" or "val"), [M, n].

        `top` (unique mode): per column only the `top` largest values of the M rows, sorted, where M > `top`:
        the same values that `torch.topk(fn(rows), top, dim=0)` gives, read off the distinct rows (their
        largest values, each repeated as often as its row occurs), so no M-row tensor is built. The memory
        loss only ever reads the largest ones (`losses.memory_loss`).
        """
        rows = getattr(self, name)
        if not self.unique:
            return fn(rows)
        distinct, index = self._distinct[name]
        if index.shape[0] != rows.shape[0]:
            raise RuntimeError("PatchMemory(unique=True): the rows were changed outside add()")
        acts = fn(distinct)
        if top is None or rows.shape[0] <= top:
            return acts[index]
        values, which = torch.topk(acts, min(top, acts.shape[0]), dim=0)   # each column descending
        # Each value repeated as often as its row occurs, cut to the first `top`: the counts are clipped to end at
        # `top` (each column's counts add up to at least that), so repeat_interleave is told its output size.
        # Without it, it reads the counts' total on the host: on a GPU, a synchronisation per neuron every step.
        ends = self._counts[name][which].cumsum(0).clamp(max=top)
        counts = torch.diff(ends, dim=0, prepend=torch.zeros_like(ends[:1]))
        return torch.stack([torch.repeat_interleave(values[:, j], counts[:, j], output_size=top)
                            for j in range(acts.shape[1])], dim=1)


class TPatcher:
    method = "tpatcher"

    def __init__(self, params: TPatcherParams, seed: int) -> None:
        self.params = params
        self.generator = torch.Generator().manual_seed(seed)
        self.path: Any = None
        self.memory: PatchMemory | None = None

    def prepare(self, path: Any, memory: Sequence[Example], val: Sequence[Example]) -> None:
        self.path = path
        self.memory = PatchMemory(path.memory_rows(memory), path.memory_rows(val), unique=self.params.memory_unique)

    def snapshot(self) -> dict[str, Any]:
        """What a resumed stream needs (between edits): the committed patches, the memory growth (the base
        memory is rebuilt by `prepare`) and the patch-init generator."""
        bank = self.path.site.bank
        if bank.n_new:
            raise RuntimeError("snapshot between edits only (a patch is being trained)")
        added = self.memory.train[self.memory.train.shape[0] - self.memory.n_added:]
        return {"keys": bank.keys.clone(), "biases": bank.biases.clone(), "values": bank.values.clone(),
                "owner": bank.owner.clone(), "memory_added": added.clone(), "memory_sizes": list(self.memory.sizes),
                "generator": self.generator.get_state()}

    def restore(self, snap: dict[str, Any], edited: Sequence[Example]) -> None:
        """Undo of `snapshot` on a freshly prepared editor."""
        bank = self.path.site.bank
        for name in ("keys", "biases", "values", "owner"):
            setattr(bank, name, snap[name].to(getattr(bank, name).device))
        added = snap["memory_added"].to(self.memory.train.device)
        # edit by edit, as they were added (a snapshot without sizes: one block)
        for rows in torch.split(added, snap.get("memory_sizes") or [added.shape[0]]):
            if rows.shape[0]:
                self.memory.add(rows)
        self.generator.set_state(snap["generator"])

    def _edit_acts(self, h: torch.Tensor, positions: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Pre-activation of each new neuron at its own position, [copies, n_new]. `positions`: (the position of
        each neuron, arange(n_new)) as tensors on h's device, made once per edit."""
        acts = self.path.site.bank.new_pre_activation(h)
        if h.dim() == 2:                           # FEVER: [copies, d] -> [copies, n]
            return acts
        return acts[:, positions[0], positions[1]]

    def _losses(self, logits: torch.Tensor, h: torch.Tensor, labels: torch.Tensor,
                positions: tuple[torch.Tensor, torch.Tensor], memory: str, identical_copies: bool = False
                ) -> dict[str, torch.Tensor]:
        """`identical_copies`: h holds the same query in every copy (a view): the memory loss then runs on one
        copy standing for all (exact); the activation loss keeps the copies, whose tied top-k entries
        decide which of several neurons at the same value receive the gradient."""
        p = self.params
        edit_acts = self._edit_acts(h, positions)
        # unique memory: only the largest activations per neuron, all the memory loss reads (its exact shortcut)
        memory_acts = self.memory.pre_activation(memory, self.path.site.bank.new_pre_activation,
                                                 top=p.memory_top_k)
        distinct, repeats = (edit_acts[:1], edit_acts.shape[0]) if identical_copies else (edit_acts, 1)
        parts = {
            "edit": self.path.ops.loss(logits, labels),
            "act": activation_loss(edit_acts, p.act_margin, p.act_top_k),
            "memory": memory_loss(memory_acts, distinct, p.memory_margin, p.memory_floor, p.memory_top_k,
                                  p.memory_top_k, repeats),
        }
        parts["total"] = parts["edit"] + p.act_coef * parts["act"] + p.memory_coef * parts["memory"]
        return parts

    def edit(self, example: Example, index: int) -> EditOutcome:
        p, path = self.params, self.path
        bank = path.site.bank
        inputs = path.edit_inputs(example, p.copies)
        with torch.no_grad():
            logits, q, enc = path.forward(inputs, training=False)
        if q.dim() == 3:   # zsRE: one neuron per wrong target token, each keyed on its own position
            positions = path.ops.wrong_positions(logits[0], enc.labels[0])[:p.max_neurons]
            if not positions:   # right under teacher forcing but wrong when generated: first answer token
                positions = [int(torch.nonzero(enc.labels[0] != -100)[0])]
            init = q[0, positions]
        else:
            positions, init = [0], q
        bank.add(init, index, key_exponent=p.key_exponent, value_scale=p.value_scale, generator=self.generator)
        where = (torch.tensor(positions, device=q.device), torch.arange(len(positions), device=q.device))
        trainable = bank.trainable()
        # One fused kernel per step instead of a chain of small foreach ops (the step is overhead-bound).
        optimizer = torch.optim.Adam(trainable, lr=p.lr, weight_decay=p.weight_decay, fused=True)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=p.lr_factor,
                                                               patience=p.lr_patience, threshold=p.lr_threshold)
        history: list[float] = []
        step, stopped = 0, False
        last: dict[str, float] = {}
        while step < p.max_steps and not stopped:
            step += 1
            logits, h, enc = path.forward(inputs, training=True, static_ffn=True)
            losses = self._losses(logits, h, enc.labels, where, "train", inputs.identical_copies)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(trainable, p.grad_clip, foreach=True)
            optimizer.step()
            if step % p.val_every == 0:
                with torch.no_grad():
                    logits, h, enc = path.forward(inputs, training=False, static_ffn=True)
                    # The reference validates on the same `copies`-row batch (eval mode: identical rows),
                    # so its memory loss counts every memory activation once per copy.
                    one = h.shape[0] == 1   # one row: a view over the copies, the memory loss on one copy
                    h = h.expand(p.copies, *h.shape[1:]) if one else h.repeat(p.copies, *[1] * (h.dim() - 1))
                    val = self._losses(logits, h, enc.labels, where, "val", identical_copies=one)
                    ok = bool(path.ops.row_correct(logits, enc.labels).all())
                scheduler.step(float(val["edit"]))
                last = {k: float(v) for k, v in val.items()}
                if step - 1 >= p.val_start:
                    if not p.use_val:
                        stopped = ok
                    elif ok:
                        history.append(float(val["memory"]))
                        stopped = early_stop(history, p.early_threshold, p.early_patience)
        n_new = bank.n_new
        bank.commit()
        if p.update_memory:
            self.memory.add(memory_update_rows(inputs.eval_queries, inputs.single, p.copies))
        return EditOutcome(n_new, step, {"stopped_early": stopped, "val_losses": last})


def build(section: Mapping[str, Any], task: str, seed: int) -> TPatcher:
    """Registry factory (editlab.editors.REGISTRY)."""
    return TPatcher(TPatcherParams.from_config(section, task), seed)
