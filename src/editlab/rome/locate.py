"""Find the FFN output projection of one layer of an encoder-decoder model by its structure.

Marian/BART name it `fc2` directly under the layer, T5 `DenseReluDense.wo`; instead of matching
names we look for the module whose direct Linear children are one or two up-projections
d_model -> f and exactly one down-projection f -> d_model (attention blocks have three or more
up-projections: q, k, v).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from editlab.errors import EditlabError

Side = Literal["encoder", "decoder"]


@dataclass(frozen=True)
class FFNLocus:
    side: Side
    layer: int
    name: str  # dotted module path of the output projection inside the model
    module: nn.Linear

    @property
    def key_dim(self) -> int:
        return self.module.in_features

    @property
    def value_dim(self) -> int:
        return self.module.out_features


def _stack(model: nn.Module, side: Side) -> nn.Module:
    getter = {"encoder": "get_encoder", "decoder": "get_decoder"}[side]
    if hasattr(model, getter):
        stack = getattr(model, getter)()
        if stack is not None:
            return stack
    raise EditlabError(f"model {type(model).__name__} has no {side} (is it an encoder-decoder model?)")


def layer_list(model: nn.Module, side: Side) -> nn.ModuleList:
    """The ModuleList of transformer layers of the encoder or decoder (`layers`, `block`, ...)."""
    stack = _stack(model, side)
    lists = [m for m in stack.children() if isinstance(m, nn.ModuleList) and len(m) > 0]
    if len(lists) != 1:
        raise EditlabError(f"cannot find the layer list of the {side} of {type(model).__name__}")
    return lists[0]


def _ffn_down_projection(layer: nn.Module, d_model: int) -> tuple[str, nn.Linear] | None:
    found = []
    for parent_name, parent in layer.named_modules():
        linears = [(n, c) for n, c in parent.named_children() if isinstance(c, nn.Linear)]
        ups = [c for _, c in linears if c.in_features == d_model and c.out_features != d_model]
        downs = [(n, c) for n, c in linears if c.out_features == d_model and c.in_features != d_model]
        if len(downs) == 1 and 1 <= len(ups) <= 2 and all(u.out_features == downs[0][1].in_features for u in ups):
            name = f"{parent_name}.{downs[0][0]}" if parent_name else downs[0][0]
            found.append((name, downs[0][1]))
    return found[0] if len(found) == 1 else None


def _d_model(model: nn.Module) -> int:
    emb = model.get_input_embeddings()
    return int(emb.embedding_dim)


def locate_ffn_output(model: nn.Module, side: Side, layer: int) -> FFNLocus:
    """The FFN output projection of `side` layer `layer` (negative indices count from the top)."""
    layers = layer_list(model, side)
    n = len(layers)
    if not -n <= layer < n:
        raise EditlabError(f"{side} layer {layer} does not exist: the model has {n} {side} layers")
    index = layer % n
    hit = _ffn_down_projection(layers[index], _d_model(model))
    if hit is None:
        raise EditlabError(f"no unique FFN output projection found in {side} layer {index} of {type(model).__name__}")
    layers_name = next(name for name, mod in model.named_modules() if mod is layers)
    return FFNLocus(side=side, layer=index, name=f"{layers_name}.{index}.{hit[0]}", module=hit[1])


def ffn_up_projections(model: nn.Module, locus: FFNLocus) -> list[tuple[str, nn.Linear]]:
    """The up-projection(s) d_model -> f feeding `locus` (siblings of the down-projection; two when gated)."""
    parent_name = locus.name.rsplit(".", 1)[0]
    parent = model.get_submodule(parent_name)
    d_model = locus.module.out_features
    return [(f"{parent_name}.{n}", c) for n, c in parent.named_children()
            if isinstance(c, nn.Linear) and c.in_features == d_model and c.out_features == locus.module.in_features]

