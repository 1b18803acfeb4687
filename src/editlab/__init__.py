"""editlab: reproducible model editing (Transformer-Patcher, rank-one editing of encoder-decoder models).

`editlab.edit(model, tokenizer, requests, method=...)` edits your own model (docs/api.md); it and
`editlab.predict` are imported on first use, so `import editlab` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["edit", "predict", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("edit", "predict"):
        from editlab import api

        return getattr(api, name)
    raise AttributeError(f"module 'editlab' has no attribute {name!r}")
