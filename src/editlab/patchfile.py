"""Patch files users can ship: the neurons a T-Patcher stream added (or the factors of rank-one edits),
apart from the base model, and the edited checkpoints made from them.

A patch file is `patches.safetensors` (tensors `keys` [N, d_in], `biases` [N], `values` [N, d_out],
`owner` [N] = edit number) plus `patches.json` (what it patches and where each neuron came from).
Rank-one (ROME / r-ROME) edits use the same layout with `format` = `editlab-rank-one-patch/1`: tensors
`right.{i}`, `u.{i}` (float64, ΔW_i = right_i ⊗ u_i as `editlab.rome.editor` computed them) and the edited
module of each.

`apply_patch` writes a directory that is the edited model as a plain Hugging Face checkpoint
(`AutoModelFor....from_pretrained(dir)` loads the edited model, no editlab needed): `model.safetensors` and
`config.json` hold the T-Patcher neurons as extra FFN units (`editlab.export.widened_model`) or the base
weights plus the ΔW_i; every other base file is copied; the base weights and config are kept as
`base_model.safetensors` / `base_config.json`; the patch files and `editlab_apply.json` (sha256 of every
base file) sit alongside. `revert_patched_dir` copies the kept base files back and checks every sha256 (the
weights against the base hash in patches.json). `load_patched` / `load_rank_one_patched` build the patched
model from the kept base files the way the editing run did (forward hooks on the last FFN; ΔW_i added in
order), so predictions equal the run's bit for bit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
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
def _patch_paths(patch: str | Path) -> tuple[Path, Path]:
    """(metadata, tensors) of a patch named by the directory holding both, its patches.json (or a metadata
    file under another name) or its patches.safetensors. The path given must exist, and a tensors path must
    be the file the metadata describes: reading the patches.safetensors beside another .safetensors would
    silently use tensors the user did not name."""
    p = Path(patch)
    if p.is_dir():
        if not (p / META_FILE).is_file():
            raise DataFormatError(p, f"is a directory without {META_FILE} (give the patch file or its directory)")
        return p / META_FILE, p / TENSOR_FILE
    if not p.exists():
        raise DataFormatError(p, "file not found")
    if p.suffix != ".safetensors":
        return p, p.with_name(TENSOR_FILE)
    if p.name != TENSOR_FILE:
        raise DataFormatError(p, f"patch tensors must be the {TENSOR_FILE} beside {META_FILE} (give that file, "
                                 f"the {META_FILE} or their directory)")
    if not p.with_name(META_FILE).is_file():
        raise DataFormatError(p.with_name(META_FILE), f"patch metadata not found (it must sit next to {TENSOR_FILE})")
    return p.with_name(META_FILE), p


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
    """Read and check a patch (its directory, patches.safetensors or patches.json, which sit side by side)."""
    meta_path, tensor_path = _patch_paths(patch)
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
# An applied directory replaces these base files by the edited model's and keeps the originals under the
# other names (so revert is a copy, bit for bit: float arithmetic cannot undo W + ΔW exactly).
CONFIG_FILE = "config.json"
BASE_WEIGHTS_FILE = "base_model.safetensors"
BASE_CONFIG_FILE = "base_config.json"
KEPT_AS = {WEIGHTS_FILE: BASE_WEIGHTS_FILE, CONFIG_FILE: BASE_CONFIG_FILE}
APPLIED_FILE = "editlab_apply.json"
APPLIED_FORMAT = "editlab-applied-patch/1"
# The fixed batch of random token ids the written checkpoint is checked on (any tokenizer, or none).
PROBE_SHAPE = (4, 16)


def _base_files(base: Path) -> list[Path]:
    """The files of a base model directory that an applied one keeps (not hidden files, not folders)."""
    own = [name for name in (BASE_WEIGHTS_FILE, BASE_CONFIG_FILE, APPLIED_FILE) if (base / name).exists()]
    if own:
        raise EditlabError(f"{base}: holds {own[0]}, so it is a patched directory, not a base model (apply the "
                           "patch to its base; `editlab patch revert` gives the base back)")
    return sorted(p for p in base.iterdir()
                  if p.is_file() and p.name not in (TENSOR_FILE, META_FILE) and not p.name.startswith("."))


def _probe_batch(model: Any) -> dict[str, torch.Tensor]:
    """Fixed random token ids (seq2seq: decoder ids too): they need no tokenizer, so every base is checked
    the same way, the toy NMT model's word vocabulary and a directory without tokenizer files included."""
    gen = torch.Generator().manual_seed(0)
    vocab = int(model.get_input_embeddings().num_embeddings)
    shape = (PROBE_SHAPE[0], min(PROBE_SHAPE[1], int(getattr(model.config, "max_position_embeddings", None) or 16)))
    ids = torch.randint(0, vocab, shape, generator=gen)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if model.config.is_encoder_decoder:
        batch["decoder_input_ids"] = torch.randint(0, vocab, shape, generator=gen)
    return batch


@torch.no_grad()
def _logits(model: Any, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    device = next(model.parameters()).device
    return model.eval()(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu()


def _auto_class(pf: PatchFile) -> Any:
    """The AutoModelFor... class a user loads the applied directory with."""
    from transformers import AutoModelForSeq2SeqLM

    from editlab.models.build import TASK_MODEL_CLASSES

    return AutoModelForSeq2SeqLM if pf.meta["format"] == RANK_ONE_FORMAT else TASK_MODEL_CLASSES[pf.meta["task"]]


def apply_patch(base_dir: str | Path, patch: str | Path, out_dir: str | Path, force: bool = False) -> Path:
    """Write the edited model as a plain Hugging Face checkpoint (atomic): `model.safetensors` and
    `config.json` of the edited model (T-Patcher neurons as extra FFN units, `editlab.export.widened_model`;
    rank-one edits added to the weights as `load_rank_one_patched` adds them), every other base file as it
    is, the base weights and config kept as `base_model.safetensors` / `base_config.json`, the patch files,
    and `editlab_apply.json` (the sha256 of every base file, and the check below). Before the directory
    appears the checkpoint is reloaded with `AutoModelFor...`: its tensors must equal the edited model's and
    its logits on a fixed probe batch the patched model's within `editlab.export.EXPORT_ATOL`, or nothing is
    written. An existing non-empty `out_dir` is refused unless `force` (then it is replaced whole)."""
    from editlab.export import check_reproduces, check_same_weights, widened_model
    from editlab.models.build import first_line

    base = Path(base_dir)
    if not base.is_dir():
        raise DataFormatError(base, "base model directory not found" if not base.exists() else "not a directory")
    pf = read_patch(patch)
    check_out_dir(out_dir, force, [base, pf.meta_path.parent])
    identity = base_identity(base)
    expected = pf.meta["base_model"]["weights_sha256"]
    if identity["weights_sha256"] != expected:
        raise EditlabError(f"{base}: base model does not match the patch ({WEIGHTS_FILE} sha256 "
                           f"{identity['weights_sha256'][:12]}..., the patch was made on {expected[:12]}...)")
    files = _base_files(base)
    if pf.meta["format"] == RANK_ONE_FORMAT:
        edited = _rank_one_model(base, pf, base)
        batch = _probe_batch(edited)
        want = _logits(edited, batch)
    else:
        # Refused here (before anything is written) for a model whose FFN width cannot carry the neurons.
        patched = _tpatcher_model(base, pf, base)
        edited = widened_model(patched.model, patched.site)
        batch = _probe_batch(edited)
        with patched.hooks():
            want = _logits(patched.model, batch)   # the hooked model: what load_patched computes
    with atomic_dir(out_dir) as tmp:
        recorded = {}
        for item in files:
            stored = KEPT_AS.get(item.name, item.name)
            copy_file(item, tmp / stored)
            recorded[item.name] = {"stored_as": stored, "sha256": sha256_file(tmp / stored)}
        if recorded[WEIGHTS_FILE]["sha256"] != expected:
            raise EditlabError(f"{base / WEIGHTS_FILE}: changed while it was being read; apply again")
        staging = tmp / ".edited"   # save_pretrained writes more files than the two the edit changes
        edited.save_pretrained(staging)
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            if not (staging / name).is_file():
                raise EditlabError(f"{out_dir}: save_pretrained wrote no {name} (a sharded checkpoint?); "
                                   "refusing to write a checkpoint")
            os.replace(staging / name, tmp / name)
        shutil.rmtree(staging)
        try:
            reloaded = _auto_class(pf).from_pretrained(tmp)
        except (OSError, ValueError, RuntimeError) as exc:
            raise EditlabError(f"{out_dir}: the written checkpoint does not load ({first_line(exc)}); "
                               "refusing to write it") from None
        check_same_weights(edited, reloaded, out_dir)
        err = check_reproduces(want, _logits(reloaded, batch), out_dir)
        copy_file(pf.tensor_path, tmp / TENSOR_FILE)
        copy_file(pf.meta_path, tmp / META_FILE)
        write_json(tmp / APPLIED_FILE, {
            "format": APPLIED_FORMAT, "editlab_version": __version__, "patch_format": pf.meta["format"],
            "base_files": recorded, "edited_files": [WEIGHTS_FILE, CONFIG_FILE],
            "check": {"probe": f"random token ids {list(PROBE_SHAPE)}, seed 0",
                      "max_logit_difference_to_patched_model": err}})
    return Path(out_dir)


def _read_applied(path: Path) -> tuple[PatchFile, dict[str, dict[str, str]]]:
    """The patch and the recorded base files ({name: {stored_as, sha256}}) of a directory `apply_patch` wrote."""
    if not path.is_dir():
        raise DataFormatError(path, "patched model directory not found" if not path.exists() else "not a directory")
    if not (path / META_FILE).is_file():
        raise DataFormatError(path, f"no {META_FILE} (not a patched model directory; `editlab patch apply` makes one)")
    pf = read_patch(path / META_FILE)
    info_path = path / APPLIED_FILE
    if not info_path.is_file():
        raise DataFormatError(path, f"no {APPLIED_FILE} (not written by `editlab patch apply` of this editlab "
                                    "version, which keeps the base files; apply the patch to the base again)")
    info = read_json(info_path)
    files = info.get("base_files") if isinstance(info, dict) else None
    if not isinstance(info, dict) or info.get("format") != APPLIED_FORMAT or not isinstance(files, dict):
        raise DataFormatError(info_path, f"not an editlab applied-patch record (format is not {APPLIED_FORMAT!r} "
                                         "or 'base_files' is not an object)")
    for name, entry in files.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("stored_as", "sha256")) \
                or Path(entry["stored_as"]).name != entry["stored_as"] or Path(name).name != name:
            raise DataFormatError(info_path, f"base_files[{name!r}] should be an object with string stored_as "
                                             "(a file name) and sha256")
    if files.get(WEIGHTS_FILE, {}).get("sha256") != pf.meta["base_model"]["weights_sha256"]:
        raise DataFormatError(info_path, f"the recorded base {WEIGHTS_FILE} is not the one {META_FILE} names")
    missing = [e["stored_as"] for e in files.values() if not (path / e["stored_as"]).is_file()]
    if missing:
        raise DataFormatError(path / missing[0], "missing (the applied directory is incomplete)")
    return pf, files


def _check_kept_weights(path: Path, pf: PatchFile, files: Mapping[str, Mapping[str, str]]) -> None:
    kept = files[WEIGHTS_FILE]["stored_as"]
    got = sha256_file(path / kept)
    expected = pf.meta["base_model"]["weights_sha256"]
    if got != expected:
        raise EditlabError(f"{path}: {kept} sha256 {got[:12]}... is not the base model's {expected[:12]}... "
                           "(the kept base weights were changed after apply)")


@contextlib.contextmanager
def _base_view(path: Path, files: Mapping[str, Mapping[str, str]]) -> Iterator[Path]:
    """A temporary directory of links that is the base model directory of an applied one (its kept base
    weights and config under their own names), so the base loads with the usual loaders and nothing is copied."""
    with tempfile.TemporaryDirectory(prefix="editlab-base-") as view:
        for name, entry in files.items():
            os.symlink((path / entry["stored_as"]).resolve(), Path(view) / name)
        yield Path(view)


def revert_patched_dir(patched_dir: str | Path, out_dir: str | Path, force: bool = False) -> str:
    """The base model directory back from a patched one, every file sha256-checked against the record
    (the weights against the base hash in patches.json); returns that hash. An existing non-empty `out_dir`
    is refused unless `force`."""
    src = Path(patched_dir)
    pf, files = _read_applied(src)
    check_out_dir(out_dir, force, [src])
    expected = pf.meta["base_model"]["weights_sha256"]
    with atomic_dir(out_dir) as tmp:
        for name, entry in files.items():
            copy_file(src / entry["stored_as"], tmp / name)
            got = sha256_file(tmp / name)
            want = expected if name == WEIGHTS_FILE else entry["sha256"]
            if got != want:
                raise EditlabError(f"{src}: {entry['stored_as']} sha256 {got[:12]}... is not the base model's "
                                   f"{want[:12]}... (the kept base file was changed after apply)")
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


def _tpatcher_model(model_dir: Path, pf: PatchFile, where: Path, device: str = "cpu") -> PatchedModel:
    """The base model in `model_dir` with the patch's neurons in its FFN site (added by `hooks()`); errors
    name `where`."""
    from editlab.editors.site import ffn_site
    from editlab.models.build import load_base_model

    task = pf.meta["task"]
    try:
        model, tokenizer = load_base_model(task, model_dir, device)
    except EditlabError as exc:
        raise EditlabError(f"{where}: {str(exc).removeprefix(f'{model_dir}: ')}") from None
    site = ffn_site(task, model)
    names = {"fc_in": _module_name(model, site.fc_in), "fc_out": _module_name(model, site.fc_out)}
    if names != pf.meta["module"]:
        raise EditlabError(f"{where}: patch targets {pf.meta['module']}, this model's last FFN is {names}")
    t = pf.tensors
    if t["keys"].shape[1:] != site.bank.keys.shape[1:] or t["values"].shape[1:] != site.bank.values.shape[1:]:
        raise EditlabError(f"{where}: patch shapes keys {tuple(t['keys'].shape)} / values {tuple(t['values'].shape)}"
                           f" do not fit the FFN ({site.fc_in.in_features} -> {site.fc_out.out_features})")
    dev = site.fc_in.weight.device
    site.bank.keys, site.bank.biases = t["keys"].to(dev), t["biases"].to(dev)
    site.bank.values, site.bank.owner = t["values"].to(dev), t["owner"].to(dev)
    return PatchedModel(task, model, tokenizer, site, int(pf.meta.get("max_length", 32)))


def load_patched(model_dir: str | Path, device: str = "cpu") -> PatchedModel:
    """The base model of a directory written by `apply_patch` (from its kept base files) with the patch
    neurons added by forward hooks, the code the editing run used: predictions equal the fold's bit for bit.
    (`AutoModelFor....from_pretrained(dir)` gives the same model with the neurons as FFN units instead.)"""
    path = Path(model_dir)
    pf, files = _read_applied(path)
    if pf.meta["format"] == RANK_ONE_FORMAT:
        raise EditlabError(f"{path}: holds rank-one edits; load it with editlab.patchfile.load_rank_one_patched")
    _check_kept_weights(path, pf, files)
    with _base_view(path, files) as view:
        return _tpatcher_model(view, pf, path, device)


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


def _rank_one_model(model_dir: Path, pf: PatchFile, where: Path, device: str = "cpu") -> Any:
    """The seq2seq base model in `model_dir` with the patch's rank-one edits added in order (eval mode);
    errors name `where`."""
    from transformers import AutoModelForSeq2SeqLM

    from editlab.models.build import first_line
    from editlab.rome.editor import delta_from_factors

    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device).eval()
    except (OSError, ValueError) as exc:
        raise EditlabError(f"{where}: cannot load the model: {first_line(exc)}") from None
    with torch.no_grad():
        for edit in pf.meta["edits"]:
            try:
                weight = model.get_submodule(edit["module"]).weight
            except AttributeError:
                raise EditlabError(f"{where}: the patch edits {edit['module']!r}, "
                                   "which this model does not have") from None
            right, u = pf.tensors[f"right.{edit['edit']}"], pf.tensors[f"u.{edit['edit']}"]
            if tuple(weight.shape) != (right.numel(), u.numel()):
                raise EditlabError(f"{where}: edit {edit['edit']} is {right.numel()}x{u.numel()}, "
                                   f"{edit['module']} is {tuple(weight.shape)}")
            weight.add_(delta_from_factors(right, u, weight))
    return model


def load_rank_one_patched(model_dir: str | Path, device: str = "cpu") -> Any:
    """The seq2seq model of a patched directory: its kept base weights with the rank-one edits added in
    order, exactly as the editor added them (eval mode). Its weights equal those of the directory's
    `model.safetensors` bit for bit (`apply_patch` checks that before writing it)."""
    path = Path(model_dir)
    pf, files = _read_applied(path)
    if pf.meta["format"] != RANK_ONE_FORMAT:
        raise EditlabError(f"{path}: holds T-Patcher neurons; load it with editlab.patchfile.load_patched")
    _check_kept_weights(path, pf, files)
    with _base_view(path, files) as view:
        return _rank_one_model(view, pf, path, device)
