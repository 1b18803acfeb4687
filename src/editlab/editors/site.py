"""The patched layer: the last FFN of the BERT encoder (FEVER) or BART decoder (zsRE).

`FFNSite` knows (1) how to compute the model's outputs from that FFN's inputs alone (`head`: the FFN,
its patches, and everything after it; used by the cached path), (2) how to make the full network use
the patches (`patched`: forward hooks; used by the reference path and by generation) and (3) how to
capture the FFN inputs of a full forward pass (`capture`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from editlab.editors.patch import PatchBank
from editlab.errors import EditlabError

if TYPE_CHECKING:   # type hints only: importing transformers' model code costs ~2.4 s (workflow start-up)
    from transformers import PreTrainedModel


class _Captured(Exception):
    """Raised by the capture hook to skip the (frozen) rest of the network."""


class FFNSite:
    """Base: subclasses name the modules; the head is what follows the FFN input."""

    fc_in: nn.Linear
    fc_out: nn.Linear

    def __init__(self, model: PreTrainedModel) -> None:
        self.model = model
        self._locate()
        d_in, d_out = self.fc_in.in_features, self.fc_out.out_features
        self.bank = PatchBank(d_in, d_out, self.activation, self.activation_dropout).to(
            self.fc_in.weight.device, self.fc_in.weight.dtype)
        self._last_input: torch.Tensor | None = None

    @property
    def train_mode_is_eval_mode(self) -> bool:
        """True when the model has no active dropout anywhere (modules or config rates), so a train-mode
        forward computes exactly what an eval-mode one does."""
        if any(isinstance(m, nn.Dropout) and m.p > 0 for m in self.model.modules()):
            return False
        rates = [v for k, v in vars(self.model.config).items() if "dropout" in k and isinstance(v, (int, float))]
        return all(r == 0 for r in rates) and self.activation_dropout == 0

    # -- subclass hooks ---------------------------------------------------------------------------
    def _locate(self) -> None:
        raise NotImplementedError

    activation_dropout: float = 0.0

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def after_ffn(self, ffn_out: torch.Tensor, h: torch.Tensor, training: bool) -> torch.Tensor:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------------
    def ffn(self, h: torch.Tensor, training: bool) -> torch.Tensor:
        """The FFN block output (before its output dropout), patches included."""
        hidden = F.dropout(self.activation(self.fc_in(h)), p=self.activation_dropout, training=training)
        return self.fc_out(hidden) + self.bank(h, training)

    def head(self, h: torch.Tensor, training: bool, fixed_ffn: torch.Tensor | None = None) -> torch.Tensor:
        """Task logits from FFN inputs: FEVER h [B, d] -> [B]; zsRE h [B, T, d] -> [B, T, vocab].

        `fixed_ffn` = `fixed_ffn_output(h)` computed earlier: then only the neurons being trained run.
        """
        ffn = self.ffn(h, training) if fixed_ffn is None else fixed_ffn + self.bank(h, training, new_only=True)
        return self.after_ffn(ffn, h, training)

    @torch.no_grad()
    def fixed_ffn_output(self, h: torch.Tensor) -> torch.Tensor:
        """The FFN output without the neurons being trained; constant while the weights and committed
        patches are, and valid in train mode only without activation dropout."""
        hidden = self.activation(self.fc_in(h))
        out = self.fc_out(hidden)
        if self.bank.n_committed:
            out = out + self.activation(h @ self.bank.keys.T + self.bank.biases) @ self.bank.values
        return out

    def ffn_parameters(self) -> list[nn.Parameter]:
        return [*self.fc_in.parameters(), *self.fc_out.parameters()]

    def tuned_parameters(self, tune: str) -> list[nn.Parameter]:
        """The weights FT tunes: `ffn` = the patched FFN (fc1/fc2 with biases); `layer` = every weight of the
        patched layer except biases and norms (the reference's selection, scripts/ft.py:114-124)."""
        if tune == "ffn":
            return self.ffn_parameters()
        if tune == "layer":
            return [p for n, p in self.layer.named_parameters() if "bias" not in n and "norm" not in n.lower()]
        raise ValueError(f"unknown FT weight set {tune!r} (expected layer or ffn)")

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """While active, full forward passes add the patch contributions and record the FFN input."""
        def keep_input(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            self._last_input = args[0]

        def add_patches(_module: nn.Module, _args: tuple, output: torch.Tensor) -> torch.Tensor:
            return output + self.bank(self._last_input, self.model.training)

        handles = [self.fc_in.register_forward_pre_hook(keep_input), self.fc_out.register_forward_hook(add_patches)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
            self._last_input = None

    @property
    def last_input(self) -> torch.Tensor:
        if self._last_input is None:
            raise RuntimeError("no forward pass ran under FFNSite.patched()")
        return self._last_input

    def capture(self, batch: dict[str, torch.Tensor], training: bool = False) -> torch.Tensor:
        """FFN inputs [B, L, d] of a forward pass, stopping there (nothing below depends on patches)."""
        captured: list[torch.Tensor] = []

        def grab(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            captured.append(args[0].detach())
            raise _Captured

        was_training = self.model.training
        self.model.train(training)
        handle = self.fc_in.register_forward_pre_hook(grab)
        try:
            with torch.set_grad_enabled(False):
                self.model(**batch)
        except _Captured:
            pass
        finally:
            handle.remove()
            self.model.train(was_training)
        if not captured:
            raise EditlabError("the patched layer was not reached by the forward pass")
        return captured[0]


class BertLastFFN(FFNSite):
    """BertForSequenceClassification: encoder layer -1; logits from the [CLS] position only."""

    def _locate(self) -> None:
        layer = self.model.bert.encoder.layer[-1]
        self.layer = layer
        self.fc_in = layer.intermediate.dense
        self.fc_out = layer.output.dense

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer.intermediate.intermediate_act_fn(x)

    def after_ffn(self, ffn_out: torch.Tensor, h: torch.Tensor, training: bool) -> torch.Tensor:
        out = self.layer.output
        x = out.LayerNorm(F.dropout(ffn_out, p=out.dropout.p, training=training) + h)
        pooled = self.model.bert.pooler.activation(self.model.bert.pooler.dense(x))
        pooled = F.dropout(pooled, p=self.model.dropout.p, training=training)
        return self.model.classifier(pooled).squeeze(-1)


class BartLastFFN(FFNSite):
    """BART-family seq2seq models (BART, Marian): decoder layer -1, position-wise up to the LM head.

    The modules are found by structure, not by name: the decoder's layer list and its FFN projections
    (`editlab.rome.locate`), the layer's last LayerNorm (post-LN: the one after the FFN), the output
    embeddings as LM head, and `final_logits_bias` where the model has one. `check_head` verifies on a
    real batch that this reproduces the model's logits (it would not for a pre-LN layer or a model
    with a final decoder LayerNorm, e.g. mBART).
    """

    def _locate(self) -> None:
        from editlab.rome.locate import ffn_up_projections, layer_list, locate_ffn_output

        locus = locate_ffn_output(self.model, "decoder", -1)
        ups = ffn_up_projections(self.model, locus)
        if len(ups) != 1:
            raise EditlabError(f"{type(self.model).__name__}: the last decoder FFN has {len(ups)} up-projections "
                               "(a gated FFN); the patch site needs exactly one")
        self.layer = layer_list(self.model, "decoder")[-1]
        self.fc_in, self.fc_out = ups[0][1], locus.module
        norms = [m for m in self.layer.children() if isinstance(m, nn.LayerNorm)]
        if not norms or not callable(getattr(self.layer, "activation_fn", None)):
            raise EditlabError(f"{type(self.model).__name__}: the last decoder layer has no LayerNorm or no "
                               "activation_fn (not a BART-family layer)")
        self.norm = norms[-1]
        self.activation_dropout = float(getattr(self.layer, "activation_dropout", 0.0))
        self.dropout = float(getattr(self.layer, "dropout", 0.0))
        self.lm_head = self.model.get_output_embeddings()
        self.logits_bias = getattr(self.model, "final_logits_bias", None)

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer.activation_fn(x)

    def final_hidden(self, ffn_out: torch.Tensor, h: torch.Tensor, training: bool) -> torch.Tensor:
        """What the LM head reads: the layer's LayerNorm of residual + FFN output (post-LN)."""
        return self.norm(h + F.dropout(ffn_out, p=self.dropout, training=training))

    def after_ffn(self, ffn_out: torch.Tensor, h: torch.Tensor, training: bool) -> torch.Tensor:
        logits = self.lm_head(self.final_hidden(ffn_out, h, training))
        return logits if self.logits_bias is None else logits + self.logits_bias

    @torch.no_grad()
    def check_head(self, batch: dict[str, torch.Tensor], atol: float = 1e-5) -> None:
        """Raise unless the site reproduces what the full model feeds its LM head on `batch` (eval mode, no
        patches). Compared before the LM head: there the states are O(1) (LayerNorm outputs), while the
        logits of a randomly initialised model are too small to tell layouts apart."""
        seen: list[torch.Tensor] = []
        handle = self.lm_head.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
        was_training = self.model.training
        self.model.eval()
        try:
            self.model(**batch)
            h = self.capture(batch)
        finally:
            handle.remove()
            self.model.train(was_training)
        mine = self.final_hidden(self.ffn(h, False), h, False)
        err = float((seen[0] - mine).abs().max())
        if not err <= atol * max(1.0, float(seen[0].abs().max())):
            raise EditlabError(f"{type(self.model).__name__}: the last decoder FFN site does not reproduce the "
                               f"model's decoder output (max difference {err:.3g}); its layout is not BART's "
                               "post-LN one")


def ffn_site(task: str, model: PreTrainedModel) -> FFNSite:
    if task == "fever":
        return BertLastFFN(model)
    if task == "zsre":
        return BartLastFFN(model)
    raise EditlabError(f"unknown task {task!r} (expected fever or zsre)")
