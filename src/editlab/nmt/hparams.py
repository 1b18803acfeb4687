"""Per-task editing configuration: which locus each task edits, and the method hyperparameters there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from editlab.editors import methods
from editlab.errors import ConfigError
from editlab.nmt.finetune import FineTuneHyperParams
from editlab.nmt.tpatcher import NmtTPatcherHyperParams
from editlab.rome.hparams import RomeHyperParams

METHODS = methods("nmt")  # the editor registry's (editlab.editors.REGISTRY)


def task_locus(nmt: Mapping[str, Any], task: str) -> dict[str, Any]:
    loci = nmt.get("locus", {})
    if task not in loci:
        raise ConfigError(f"config key 'nmt.locus.{task}': missing (side and layer to edit for this task)")
    return dict(loci[task])


def rome_hparams(nmt: Mapping[str, Any], task: str, method: str) -> RomeHyperParams:
    if method not in ("rome", "r-rome"):
        raise ConfigError(f"not a rank-one method: {method}")
    return RomeHyperParams.from_config({**nmt["rome"], **task_locus(nmt, task)}, key_mode=method)  # type: ignore[arg-type]


def ft_hparams(nmt: Mapping[str, Any], task: str) -> FineTuneHyperParams:
    return FineTuneHyperParams.from_config({**nmt["ft"], **task_locus(nmt, task)})


def tpatcher_hparams(nmt: Mapping[str, Any]) -> NmtTPatcherHyperParams:
    """Transformer-Patcher always patches the decoder's last FFN, so `nmt.locus` does not apply."""
    return NmtTPatcherHyperParams.from_config(nmt.get("tpatcher", {}))


def model_tag(nmt: Mapping[str, Any]) -> str:
    """Names the model in cache paths: 'toy' or the hub id with '/' replaced."""
    return "toy" if nmt["source"] == "toy" else str(nmt["hub_id"]).replace("/", "--")


def stats_loci(nmt: Mapping[str, Any]) -> list[tuple[str, int]]:
    """The distinct (side, layer) pairs the configured tasks edit."""
    return sorted({(loc["side"], int(loc["layer"])) for t, loc in nmt["locus"].items() if t in nmt["tasks"]})
