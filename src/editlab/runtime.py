"""Process-level setup shared by workflow scripts and the CLI: logging, seeding, threads, device."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from editlab.errors import EditlabError

log = logging.getLogger("editlab")


def export_src_path(src: str) -> None:
    """Put this checkout's `src` first on PYTHONPATH so that job processes (scripts, cluster jobs) run
    the library of the workflow that launched them even when another copy is pip-installed."""
    parts = [src] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)


def seed_everything(seed: int, deterministic: bool = True) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(requested: str = "auto") -> str:
    """'cuda' only when asked for (or auto) and a device is visible; otherwise 'cpu'."""
    import torch

    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise EditlabError("config device=cuda but no CUDA device is visible to this job")
    return "cpu"


def configure_torch(config: Mapping[str, Any], threads: int | None = None) -> str:
    import torch

    n = threads or int(config.get("threads", 1))
    torch.set_num_threads(max(1, n))
    seed_everything(int(config["seed"]), bool(config.get("deterministic", True)))
    return resolve_device(str(config.get("device", "auto")))


@contextlib.contextmanager
def gpu_slot(resources: Any) -> Iterator[Any]:
    """Pin a GPU rule's job to the device slot(s) its `gpu` resource grants (see editlab.gpu).

    Enter it inside `script_logging` and before any CUDA use: CUDA reads CUDA_VISIBLE_DEVICES once.
    `resources` is the script's `snakemake.resources` (or a mapping / int).
    """
    from editlab.gpu import claim_gpus

    if isinstance(resources, int):
        n = resources
    elif isinstance(resources, Mapping):
        n = int(resources.get("gpu", 0) or 0)
    else:
        n = int(getattr(resources, "gpu", 0) or 0)
    with claim_gpus(n) as claim:
        yield claim


@contextlib.contextmanager
def script_logging(log_path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Send logging (and stray prints) of a workflow script to its rule's log file.

    A user-facing EditlabError is written as one line to the log and to the real stderr, and the
    process exits 1 without a traceback from deep inside the library.
    """
    real_stderr = sys.stderr
    handlers: list[logging.Handler] = [logging.StreamHandler(real_stderr)]
    fh = None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = open(log_path, "w", encoding="utf-8", buffering=1)
        handlers = [logging.StreamHandler(fh)]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        handlers=handlers, force=True)
    try:
        with contextlib.ExitStack() as stack:
            if fh is not None:
                stack.enter_context(contextlib.redirect_stdout(fh))
                stack.enter_context(contextlib.redirect_stderr(fh))
            try:
                yield
            except EditlabError as exc:
                log.error("%s", exc)
                print(f"editlab: error: {exc}", file=real_stderr)
                raise SystemExit(1) from None
            except OSError as exc:   # a file error no editlab reader/writer wrapped: still one line with the path
                log.exception("unwrapped file error")
                print(f"editlab: error: {exc.filename or '?'}: {exc.strerror or exc}", file=real_stderr)
                raise SystemExit(1) from None
    finally:
        if fh is not None:
            fh.close()


# The variables that put huggingface_hub, datasets and transformers offline.
HUB_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_offline(environ: MutableMapping[str, str] | None = None) -> None:
    """Run this process with the hub offline: a GPU job reads what prefetch_hub put in the HF cache on the
    submit host (compute nodes often have no internet; a job must not fetch what the DAG did not pin)."""
    environ = os.environ if environ is None else environ
    for name in HUB_OFFLINE_VARIABLES:
        environ[name] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:   # imported before this call, it has read the variable already
        constants.HF_HUB_OFFLINE = True
