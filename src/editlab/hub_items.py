"""The hub models, tokenizers and datasets a profile's jobs load (the workflow's prefetch_hub targets).

Apart from editlab.hub so that the prefetch stage's code does not include the data modules read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from editlab.hub import HubItem


def hub_items(config: Mapping[str, Any]) -> dict[str, HubItem]:
    """Every hub model, tokenizer and dataset the profile's jobs load, by role (the marker's name)."""
    items: dict[str, HubItem] = {}
    for task, section in sorted((config.get("base") or {}).items()):
        model = (section or {}).get("model") or {}
        if model.get("source") == "hub":
            items[f"base_{task}"] = HubItem(f"base_{task}", str(model["hub_id"]), model.get("revision"))
    data = config.get("data") or {}
    if data.get("source") == "kilt":
        from editlab.data.backtranslate import BacktranslateConfig

        bt = BacktranslateConfig.from_config(data.get("backtranslate"))
        items["backtranslate_forward"] = HubItem("backtranslate_forward", bt.forward_model)
        items["backtranslate_backward"] = HubItem("backtranslate_backward", bt.backward_model)
    nmt = config.get("nmt") or {}
    if nmt.get("source") == "hub":
        items["nmt_model"] = HubItem("nmt_model", str(nmt["hub_id"]), nmt.get("revision"))
        hub_data = nmt.get("hub_data") or {}
        items["nmt_data"] = HubItem("nmt_data", str(hub_data["dataset"]), hub_data.get("revision"), "dataset",
                                    hub_data.get("dataset_config"))
    return items
