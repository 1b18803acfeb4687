"""Patch files users can ship: the neurons a T-Patcher stream added (or the factors of rank-one edits),
apart from the base model.

A patch file is `patches.safetensors` (tensors `keys` [N, d_in], `biases` [N], `values` [N, d_out],
`owner` [N] = edit number) plus `patches.json` (what it patches and where each neuron came from). The
base weights are never changed: a patched model directory is the base directory, byte for byte, plus
the two patch files, and `load_patched` adds the neurons with forward hooks on the last FFN (the same
code the editing run uses). Reverting is therefore dropping the patch files; `revert_patched_dir`
checks the sha256 of what remains against the base model's recorded hash.

Rank-one (ROME / r-ROME) edits use the same layout with `format` = `editlab-rank-one-patch/1`: tensors
`right.{i}`, `u.{i}` (float64, ΔW_i = right_i ⊗ u_i as `editlab.rome.editor` computed them) and the edited
module of each; loading adds the ΔW_i to the base weights in order, exactly as the editor did.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from editlab import __version__
from editlab.errors import DataFormatError, EditlabError
from editlab.io import atomic_dir, atomic_path, check_out_dir, check_out_file, copy_file, read_json, reading, write_json

FORMAT = "editlab-tpatcher-patch/1"
RANK_ONE_FORMAT = "editlab-rank-one-patch/1"
TENSOR_FILE = "patches.safetensors"
META_FILE = "patches.json"
WEIGHTS_FILE = "model.safetensors"
TENSOR_NAMES = ("keys", "biases", "values", "owner")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with reading(path), open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_identity(model_dir: str | Path) -> dict[str, Any]:
    """What identifies a base model directory: its architecture fields and the sha256 of its weights."""
    path = Path(model_dir)
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise EditlabError(f"{path}: not a base model directory (no {WEIGHTS_FILE})")
    config = read_json(path / "config.json")
    if not isinstance(config, dict):
        raise DataFormatError(path / "config.json", f"expected a JSON object, got {type(config).__name__}")
    return {"path": str(path), "model_type": config.get("model_type"), "architectures": config.get("architectures"),
            "name_or_path": config.get("_name_or_path"), "weights_sha256": sha256_file(weights),
            "weights_bytes": weights.stat().st_size}


def _module_name(model: torch.nn.Module, module: torch.nn.Module) -> str:
    return next(name for name, m in model.named_modules() if m is module)


# -- the fold job's side --------------------------------------------------------------------------------
def export_fold_patches(out_dir: str | Path, task: str, base_model_dir: str | Path, path: Any,
                        records: Sequence[Mapping[str, Any]], edited: Sequence[Any], test: Sequence[Any]) -> None:
    """Write patches.safetensors + patches.json, and the final model's predictions on the fold's edits and
    the first test examples (`final_predictions.jsonl`, what an applied patch must reproduce)."""
    out = Path(out_dir)
    site, ops = path.site, path.ops
    bank = site.bank
    edit_records = [r for r in records if r["was_error"]]   # edit number e == owner e
    owner = bank.owner.cpu().tolist()
    meta = {
        "format": FORMAT, "editlab_version": __version__, "task": task,
        "base_model": base_identity(base_model_dir),
        "module": {"fc_in": _module_name(site.model, site.fc_in), "fc_out": _module_name(site.model, site.fc_out)},
        "n_neurons": bank.n_committed, "d_in": int(bank.keys.shape[1]), "d_out": int(bank.values.shape[1]),
        "dtype": str(bank.keys.dtype).removeprefix("torch."), "max_length": ops.max_length,
        "neurons": [{"neuron": i, "edit": e, "index": edit_records[e]["index"], "id": edit_records[e]["id"]}
                    for i, e in enumerate(owner)],
    }
    tensors = {"keys": bank.keys, "biases": bank.biases, "values": bank.values, "owner": bank.owner}
    with atomic_path(out / TENSOR_FILE) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp),
                  metadata={"format": FORMAT})
    meta["tensor_sha256"] = sha256_file(out / TENSOR_FILE)
    write_json(out / META_FILE, meta)
    examples = [*edited, *test]
    with site.patched():
        preds = predict(task, site.model, ops.tokenizer, [e.input for e in examples], ops.max_length)
    rows = [{"id": e.id, "set": "edit" if i < len(edited) else "test", **p}
            for i, (e, p) in enumerate(zip(examples, preds, strict=True))]
    with atomic_path(out / "final_predictions.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")


@torch.no_grad()
def predict(task: str, model: Any, tokenizer: Any, texts: Sequence[str], max_length: int,
            batch_size: int = 256) -> list[dict[str, Any]]:
    """FEVER: the logit and label (1 = SUPPORTS); zsRE: the greedy answer. Eval mode, full forward."""
    from editlab.tasks import batched, fever, zsre

    if task == "zsre":
        answers = zsre.generate(model, tokenizer, texts, max_length=max_length, batch_size=batch_size)
        return [{"answer": a} for a in answers]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    for chunk in batched(list(texts), batch_size):
        batch = {k: v.to(device) for k, v in fever.encode(tokenizer, chunk, max_length).items()}
        out += [{"logit": float(z), "label": int(z > 0)} for z in fever.logits(model, batch)]
    model.train(was_training)
    return out


# -- reading and checking -------------------------------------------------------------------------------
def _meta_path(patch: str | Path) -> Path:
    """patches.json for any of: the .safetensors, the .json, or the directory holding both."""
    p = Path(patch)
    if p.is_dir():
        if not (p / META_FILE).is_file():
            raise DataFormatError(p, f"is a directory without {META_FILE} (give the patch file or its directory)")
        return p / META_FILE
    return p.with_name(META_FILE) if p.name == TENSOR_FILE or p.suffix == ".safetensors" else p


# patches.json fields the loaders use, and their JSON types
_FIELD_TYPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    FORMAT: {"task": str, "base_model": dict, "module": dict, "n_neurons": int, "tensor_sha256": str,
             "neurons": list},
    RANK_ONE_FORMAT: {"base_model": dict, "edits": list, "tensor_sha256": str},
}


def _check_fields(meta: dict[str, Any], meta_path: Path) -> None:
    """Field types of patches.json: a hand-edited file is refused naming the field, not with a traceback."""
    for key, kind in _FIELD_TYPES[meta["format"]].items():
        if key not in meta:
            raise DataFormatError(meta_path, f"missing field {key!r}")
        value = meta[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise DataFormatError(meta_path, f"field {key!r} should be {getattr(kind, '__name__', kind)}, "
                                             f"got {json.dumps(value)[:40]}")
    base = meta["base_model"]
    if not isinstance(base.get("weights_sha256"), str) or not isinstance(base.get("weights_bytes"), int):
        raise DataFormatError(meta_path, "field 'base_model' needs 'weights_sha256' (string) and 'weights_bytes' "
                                         "(integer)")
    if meta["format"] == FORMAT:
        if not all(isinstance(meta["module"].get(k), str) for k in ("fc_in", "fc_out")):
            raise DataFormatError(meta_path, "field 'module' needs string 'fc_in' and 'fc_out'")
        if meta["task"] not in ("fever", "zsre"):
            raise DataFormatError(meta_path, f"field 'task' should be fever or zsre, got {meta['task']!r}")
        keys = {"neuron": int, "edit": int, "index": int, "id": str}
        for i, n in enumerate(meta["neurons"]):
            if not isinstance(n, dict) or not all(isinstance(n.get(k), t) for k, t in keys.items()):
                raise DataFormatError(meta_path, f"neurons[{i}] should be an object with integer neuron, edit, "
                                                 "index and string id")
        if "max_length" in meta and (not isinstance(meta["max_length"], int) or isinstance(meta["max_length"], bool)):
            raise DataFormatError(meta_path, "field 'max_length' should be int")
    else:
        for i, e in enumerate(meta["edits"]):
            if not isinstance(e, dict) or not isinstance(e.get("module"), str) or e.get("edit") != i:
                raise DataFormatError(meta_path, f"edits[{i}] should be an object with string module and edit {i}")


@dataclass
class PatchFile:
    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    tensor_path: Path
    meta_path: Path


def read_patch(patch: str | Path) -> PatchFile:
    """Read and check a patch (the .safetensors or its patches.json, which sit side by side)."""
    meta_path = _meta_path(patch)
    tensor_path = meta_path.with_name(TENSOR_FILE)
    meta = read_json(meta_path)
    if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, RANK_ONE_FORMAT):
        raise DataFormatError(meta_path, f"not an editlab patch file (format is not {FORMAT!r} "
                                         f"or {RANK_ONE_FORMAT!r})")
    _check_fields(meta, meta_path)
    if not tensor_path.is_file():
        raise DataFormatError(tensor_path, "patch tensors not found (it must sit next to patches.json)")
    if sha256_file(tensor_path) != meta["tensor_sha256"]:
        raise DataFormatError(tensor_path, "sha256 does not match patches.json (corrupt or replaced file)")
    try:
        tensors = load_file(str(tensor_path))
    except (SafetensorError, OSError) as exc:
        raise DataFormatError(tensor_path, f"not a readable safetensors file ({exc})") from None
    bad = [name for name, t in tensors.items() if t.dim() == 0]
    if bad:
        raise DataFormatError(tensor_path, f"tensor {bad[0]!r} is a scalar")
    names = TENSOR_NAMES if meta["format"] == FORMAT else \
        [f"{kind}.{i}" for i in range(len(meta["edits"])) for kind in ("right", "u")]
    missing = [n for n in names if n not in tensors]
    if missing:
        raise DataFormatError(tensor_path, f"missing tensor {missing[0]!r}")
    if meta["format"] == RANK_ONE_FORMAT:
        return PatchFile(meta, tensors, tensor_path, meta_path)
    n = int(meta["n_neurons"])
    if any(int(tensors[k].shape[0]) != n for k in TENSOR_NAMES):
        raise DataFormatError(tensor_path, f"tensor rows do not match n_neurons={n} in patches.json")
    return PatchFile(meta, tensors, tensor_path, meta_path)


def describe(patch: str | Path) -> dict[str, Any]:
    """What `editlab patch inspect` prints: metadata without the per-neuron list, plus sizes."""
    pf = read_patch(patch)
    if pf.meta["format"] == RANK_ONE_FORMAT:
        n_params = sum(int(t.numel()) for t in pf.tensors.values())
        return {**pf.meta, "n_edits": len(pf.meta["edits"]), "patch_bytes": pf.tensor_path.stat().st_size,
                "metadata_bytes": pf.meta_path.stat().st_size, "patch_parameters": n_params,
                "patch_vs_base_weights": pf.tensor_path.stat().st_size / pf.meta["base_model"]["weights_bytes"]}
    meta = {k: v for k, v in pf.meta.items() if k != "neurons"}
    edits = sorted({(n["edit"], n["index"], n["id"]) for n in pf.meta["neurons"]})
    n_params = sum(int(t.numel()) for k, t in pf.tensors.items() if k != "owner")
    return {**meta, "n_edits": len(edits),
            "edits": [{"edit": e, "index": i, "id": d} for e, i, d in edits],
            "patch_bytes": pf.tensor_path.stat().st_size, "metadata_bytes": pf.meta_path.stat().st_size,
            "patch_parameters": n_params,
            "patch_vs_base_weights": pf.tensor_path.stat().st_size / pf.meta["base_model"]["weights_bytes"]}


# -- applying -------------------------------------------------------------------------------------------
def _check_out(out_dir: str | Path, force: bool, *inputs: Path) -> Path:
    """`--out` must be new or empty (or `force`), and never an input or a folder holding one: replacing it
    would delete what is being read."""
    out = check_out_dir(out_dir, force)
    resolved = out.resolve()
    for item in inputs:
        src = item.resolve()
        if resolved == src or resolved in src.parents:
            raise EditlabError(f"{out}: --out is (or contains) the input {item}; choose another directory")
    return out


def apply_patch(base_dir: str | Path, patch: str | Path, out_dir: str | Path, force: bool = False) -> Path:
    """A patched model directory: the base files unchanged plus the patch files (atomic). An existing
    non-empty `out_dir` is refused unless `force` (then it is replaced whole)."""
    base = Path(base_dir)
    if not base.is_dir():
        raise DataFormatError(base, "base model directory not found" if not base.exists() else "not a directory")
    pf = read_patch(patch)
    _check_out(out_dir, force, base, pf.meta_path.parent)
    identity = base_identity(base)
    expected = pf.meta["base_model"]["weights_sha256"]
    if identity["weights_sha256"] != expected:
        raise EditlabError(f"{base}: base model does not match the patch ({WEIGHTS_FILE} sha256 "
                           f"{identity['weights_sha256'][:12]}..., the patch was made on {expected[:12]}...)")
    with atomic_dir(out_dir) as tmp:
        for item in base.iterdir():
            if item.is_file() and item.name not in (TENSOR_FILE, META_FILE) and not item.name.startswith("."):
                copy_file(item, tmp / item.name)
        copy_file(pf.tensor_path, tmp / TENSOR_FILE)
        copy_file(pf.meta_path, tmp / META_FILE)
    return Path(out_dir)


def revert_patched_dir(patched_dir: str | Path, out_dir: str | Path, force: bool = False) -> str:
    """The base model directory back from a patched one; returns the checked sha256 of its weights. An
    existing non-empty `out_dir` is refused unless `force`."""
    src = Path(patched_dir)
    if not src.is_dir():
        raise DataFormatError(src, "patched model directory not found" if not src.exists() else "not a directory")
    if not (src / META_FILE).is_file():
        raise DataFormatError(src, f"no {META_FILE} (not a patched model directory; `editlab patch apply` makes one)")
    pf = read_patch(src / META_FILE)
    _check_out(out_dir, force, src)
    expected = pf.meta["base_model"]["weights_sha256"]
    with atomic_dir(out_dir) as tmp:
        for item in src.iterdir():
            if item.is_file() and item.name not in (TENSOR_FILE, META_FILE) and not item.name.startswith("."):
                copy_file(item, tmp / item.name)
        got = sha256_file(tmp / WEIGHTS_FILE) if (tmp / WEIGHTS_FILE).is_file() else "missing"
        if got != expected:
            raise EditlabError(f"{src}: {WEIGHTS_FILE} sha256 {got[:12]}... is not the base model's "
                               f"{expected[:12]}... (the weights were changed after apply)")
    return expected


@dataclass
class PatchedModel:
    """A base model plus patch neurons; use `predict`, or `hooks()` around your own forward passes."""

    task: str
    model: Any
    tokenizer: Any
    site: Any
    max_length: int

    @contextlib.contextmanager
    def hooks(self) -> Iterator[None]:
        with self.site.patched():
            yield

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> list[dict[str, Any]]:
        with self.hooks():
            return predict(self.task, self.model, self.tokenizer, texts, self.max_length, batch_size)


def load_patched(model_dir: str | Path, device: str = "cpu") -> PatchedModel:
    """Load a directory written by `apply_patch` (a base directory without patch files loads unpatched)."""
    from editlab.editors.site import ffn_site
    from editlab.models.build import load_base_model

    path = Path(model_dir)
    if not (path / META_FILE).is_file():
        raise EditlabError(f"{path}: no {META_FILE} (not a patched model directory; use `editlab patch apply`)")
    pf = read_patch(path / META_FILE)
    identity = base_identity(path)
    if identity["weights_sha256"] != pf.meta["base_model"]["weights_sha256"]:
        raise EditlabError(f"{path}: {WEIGHTS_FILE} is not the base model the patch was made on (sha256 differs)")
    if pf.meta["format"] == RANK_ONE_FORMAT:
        raise EditlabError(f"{path}: holds rank-one edits; load it with editlab.patchfile.load_rank_one_patched")
    task = pf.meta["task"]
    model, tokenizer = load_base_model(task, path, device)
    site = ffn_site(task, model)
    names = {"fc_in": _module_name(model, site.fc_in), "fc_out": _module_name(model, site.fc_out)}
    if names != pf.meta["module"]:
        raise EditlabError(f"{path}: patch targets {pf.meta['module']}, this model's last FFN is {names}")
    t = pf.tensors
    if t["keys"].shape[1:] != site.bank.keys.shape[1:] or t["values"].shape[1:] != site.bank.values.shape[1:]:
        raise EditlabError(f"{path}: patch shapes keys {tuple(t['keys'].shape)} / values {tuple(t['values'].shape)}"
                           f" do not fit the FFN ({site.fc_in.in_features} -> {site.fc_out.out_features})")
    dev = site.fc_in.weight.device
    site.bank.keys, site.bank.biases = t["keys"].to(dev), t["biases"].to(dev)
    site.bank.values, site.bank.owner = t["values"].to(dev), t["owner"].to(dev)
    return PatchedModel(task, model, tokenizer, site, int(pf.meta.get("max_length", 32)))


def write_predictions(model_dir: str | Path, inputs: Sequence[Mapping[str, Any]], out: str | Path) -> None:
    """Predictions of a patched directory on rows with `id` and `input` (JSONL out, atomic)."""
    check_out_file(out)
    patched = load_patched(model_dir)
    preds = patched.predict([r["input"] for r in inputs])
    with atomic_path(out) as tmp:
        tmp.write_text("".join(json.dumps({"id": r["id"], **p}, sort_keys=True) + "\n"
                               for r, p in zip(inputs, preds, strict=True)), encoding="utf-8")


# -- rank-one edits ---------------------------------------------------------------------------------------
def export_rank_one(out_dir: str | Path, base_model_dir: str | Path, results: Sequence[Any],
                    labels: Sequence[str] | None = None, extra: Mapping[str, Any] | None = None) -> None:
    """patches.safetensors + patches.json for the applied edits among `results` (rome EditResult, in the
    order they were applied to the base model in `base_model_dir`); `extra`: more metadata fields."""
    applied = [r for r in results if r.applied]
    if any(r.factors is None for r in applied):
        raise EditlabError("an applied edit has no rank-one factors (only ROME / r-ROME edits can be exported)")
    labels = list(labels) if labels is not None else [str(i) for i in range(len(results))]
    label_of = {id(r): label for r, label in zip(results, labels, strict=True)}
    out = Path(out_dir)
    tensors = {}
    for i, r in enumerate(applied):
        tensors[f"right.{i}"], tensors[f"u.{i}"] = (t.detach().cpu().contiguous() for t in r.factors)
    with atomic_path(out / TENSOR_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": RANK_ONE_FORMAT})
    meta = {**(extra or {}), "format": RANK_ONE_FORMAT, "editlab_version": __version__,
            "base_model": base_identity(base_model_dir),
            "edits": [{"edit": i, "module": r.module_name, "request": label_of[id(r)],
                       "shape": [int(r.factors[0].numel()), int(r.factors[1].numel())]}
                      for i, r in enumerate(applied)],
            "tensor_sha256": sha256_file(out / TENSOR_FILE)}
    write_json(out / META_FILE, meta)


def load_rank_one_patched(model_dir: str | Path, device: str = "cpu") -> Any:
    """The seq2seq model of a patched directory with its rank-one edits added in order (eval mode)."""
    from transformers import AutoModelForSeq2SeqLM

    from editlab.rome.editor import delta_from_factors

    path = Path(model_dir)
    pf = read_patch(path / META_FILE)
    if pf.meta["format"] != RANK_ONE_FORMAT:
        raise EditlabError(f"{path}: holds T-Patcher neurons; load it with editlab.patchfile.load_patched")
    if base_identity(path)["weights_sha256"] != pf.meta["base_model"]["weights_sha256"]:
        raise EditlabError(f"{path}: {WEIGHTS_FILE} is not the base model the patch was made on (sha256 differs)")
    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(path).to(device).eval()
    except (OSError, ValueError) as exc:
        raise EditlabError(f"{path}: cannot load the model: {str(exc).strip().splitlines()[0]}") from None
    with torch.no_grad():
        for edit in pf.meta["edits"]:
            try:
                weight = model.get_submodule(edit["module"]).weight
            except AttributeError:
                raise EditlabError(f"{path}: the patch edits {edit['module']!r}, "
                                   "which this model does not have") from None
            right, u = pf.tensors[f"right.{edit['edit']}"], pf.tensors[f"u.{edit['edit']}"]
            if tuple(weight.shape) != (right.numel(), u.numel()):
                raise EditlabError(f"{path}: edit {edit['edit']} is {right.numel()}x{u.numel()}, "
                                   f"{edit['module']} is {tuple(weight.shape)}")
            weight.add_(delta_from_factors(right, u, weight))
    return model
