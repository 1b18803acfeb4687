"""Edit your own model: `editlab.edit(model, tokenizer, requests, method=...)`.

Requests are applied one after the other with the SME protocol's semantics: a request the current (already
edited) model gets right is not edited. Supported: `BertForSequenceClassification` (tpatcher, ft, ftkl) and
`BartForConditionalGeneration` / `MarianMTModel` (tpatcher, ft, ftkl, rome, r-rome), `T5ForConditionalGeneration`
(rome, r-rome). The method code is the workflow's (`editlab.editors`, `editlab.rome`); only the task glue
(encoding a request, correctness, the locality set) is here. docs/api.md describes every choice.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema
import torch
import torch.nn.functional as F

from editlab.config import dataclass_schema, param
from editlab.data.records import Example
from editlab.errors import EditlabError
from editlab.progress import Progress

METHODS = ("tpatcher", "ft", "ftkl", "rome", "r-rome")
SITE_METHODS = ("tpatcher", "ft", "ftkl")        # edit the last FFN through editlab.editors.site
RANK_ONE_METHODS = ("rome", "r-rome")
CLASSIFIERS = ("BertForSequenceClassification",)
SEQ2SEQ = ("BartForConditionalGeneration", "MarianMTModel", "T5ForConditionalGeneration")
# T5's FFN is pre-LayerNorm: the T-Patcher/FT site computes the model's output from the FFN input alone, which
# needs BART's post-LN layout (editlab.editors.site.BartLastFFN.check_head).
SITE_MODELS = ("BertForSequenceClassification", "BartForConditionalGeneration", "MarianMTModel")
# Attribute of an edited model: the tokens of the EditResults applied to it, oldest first (EditResult._token).
EDIT_STACK = "_editlab_edit_stack"


@dataclass(frozen=True)
class ApiSettings:
    """Settings of the API glue (not of a method): tokenisation length, evaluation batch size, execution path."""

    max_length: int = param(64, "tokens per input (and seq2seq target); a longer request is refused", minimum=4)
    eval_batch_size: int = param(64, minimum=1)
    path: Literal["cached", "reference"] = param(
        "cached", "editlab.sme.paths: cached (fast, exact without dropout) | reference")


@dataclass
class EditRecord:
    """One request: whether it was edited (the model got it wrong), and what the edit achieved."""

    index: int
    input: str
    target: str | int
    edited: bool
    success: bool
    rephrase_accuracy: float | None
    steps: int
    seconds: float
    neurons_added: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class EditResult:
    """The edited model (edited in place), one record per request, `revert()` and `save_pretrained(dir)`."""

    model: Any
    tokenizer: Any
    method: str
    records: list[EditRecord]
    hparams: Any
    settings: ApiSettings
    _site: Any = None                     # tpatcher: the FFN site holding the patch neurons
    _undo: Callable[[], None] | None = None  # tpatcher: puts the unwidened FFN modules back
    _base: dict[str, torch.Tensor] = field(default_factory=dict)   # parameter name -> base value
    _reverted: bool = False
    # This call's entry in the model's stack of editlab.edit calls (EDIT_STACK): each result undoes only its own
    # change, so results revert last in, first out, and only the latest one describes the model as it is.
    _token: object = field(default_factory=object)

    @property
    def summary(self) -> dict[str, Any]:
        edited = [r for r in self.records if r.edited]
        reph = [r.rephrase_accuracy for r in edited if r.rephrase_accuracy is not None]
        return {"method": self.method, "n_requests": len(self.records), "n_edited": len(edited),
                "n_success": sum(r.success for r in edited),
                "success_rate": sum(r.success for r in edited) / len(edited) if edited else None,
                "rephrase_accuracy": sum(reph) / len(reph) if reph else None,
                "neurons_added": sum(r.neurons_added for r in self.records),
                "seconds": sum(r.seconds for r in self.records)}

    @property
    def n_neurons(self) -> int:
        return 0 if self._site is None else self._site.bank.n_committed

    def _later_edits(self) -> int:
        """How many editlab.edit calls changed the model after this one and are still applied."""
        stack = edit_stack(self.model)
        return len(stack) - 1 - stack.index(self._token) if self._token in stack else 0

    def revert(self) -> None:
        """Give the model back the weights it had before this call (bit for bit) and remove its patch neurons.
        Results of several calls on one model revert last in, first out; reverting twice does nothing."""
        if self._reverted:
            return
        later = self._later_edits()
        if later:
            raise EditlabError(f"revert the later edits of this model first (last in, first out): {later} "
                               "editlab.edit call(s) changed it after this one")
        if self._undo is not None:
            self._undo()
            self._undo = None
        with torch.no_grad():
            params = dict(self.model.named_parameters())
            for name, value in self._base.items():
                params[name].copy_(value)
        if self._token in edit_stack(self.model):
            edit_stack(self.model).remove(self._token)
        self._reverted = True

    def save_pretrained(self, directory: str | Path, force: bool = False) -> Path:
        """A plain Hugging Face checkpoint of the edited model (+ tokenizer), loadable without editlab.
        `directory` must be new or empty (`force`: replaced whole), and never the directory the model was
        loaded from or a folder holding it."""
        from editlab.export import save_edited
        from editlab.io import check_out_dir

        if self._reverted:
            raise EditlabError("this edit result was reverted; there is no edited model to save")
        if self._later_edits():
            raise EditlabError("a later editlab.edit call changed this model; save that call's result")
        source = getattr(self.model.config, "_name_or_path", "")   # where from_pretrained read the model
        check_out_dir(directory, force, [source] if source and Path(source).is_dir() else [])
        return save_edited(self, directory)


# -- requests ----------------------------------------------------------------------------------------
def model_kind(model: Any) -> str:
    """'classifier' or 'seq2seq'; anything else cannot be edited."""
    name = type(model).__name__
    if name in CLASSIFIERS:
        return "classifier"
    if name in SEQ2SEQ:
        return "seq2seq"
    raise EditlabError(f"cannot edit a {name} (editlab edits {', '.join(CLASSIFIERS + SEQ2SEQ)})")


def check_method(model: Any, method: str) -> None:
    name = type(model).__name__
    if method not in METHODS:
        raise EditlabError(f"unknown method {method!r} (expected one of {', '.join(METHODS)})")
    kind = model_kind(model)
    if method in RANK_ONE_METHODS and kind != "seq2seq":
        raise EditlabError(f"method {method!r} edits encoder-decoder models; {name} is a classifier "
                           f"(use {', '.join(SITE_METHODS)})")
    if method in SITE_METHODS and name not in SITE_MODELS:
        raise EditlabError(f"method {method!r} cannot edit a {name}: its FFN is pre-LayerNorm and the "
                           f"patched-layer site needs a post-LN layout ({', '.join(SITE_MODELS)}); use rome or r-rome")


def label_id(model: Any, target: Any, where: str) -> int:
    """A classifier target as a label id: an id, or a label name from `config.id2label`."""
    n = int(model.config.num_labels)
    names = {str(v): int(k) for k, v in (model.config.id2label or {}).items()}
    valid = range(2) if n == 1 else range(n)    # one logit: label 1 iff logit > 0
    if isinstance(target, bool):
        raise EditlabError(f"{where}: target {target!r} is not a label of the model")
    if isinstance(target, int) and target in valid:
        return target
    if isinstance(target, str) and n > 1 and target in names:
        return names[target]
    shown = sorted(names, key=names.get) if n > 1 else ["0", "1"]
    raise EditlabError(f"{where}: target {target!r} is not a label of the model (labels: {', '.join(shown)})")


def normalise_requests(model: Any, requests: Sequence[Mapping[str, Any]], source: str = "requests"
                       ) -> list[dict[str, Any]]:
    """Checked requests `{input, target, rephrases}`; classifier targets become label ids."""
    kind = model_kind(model)
    if not requests:
        raise EditlabError(f"{source}: no requests")
    out = []
    for i, req in enumerate(requests):
        where = f"{source}: request {i + 1}"
        if not isinstance(req, Mapping):
            raise EditlabError(f"{where}: expected an object with 'input' and 'target'")
        unknown = sorted(set(req) - {"input", "target", "rephrases", "id"})
        if unknown:
            raise EditlabError(f"{where}: unknown field {unknown[0]!r} (fields: input, target, rephrases)")
        if not isinstance(req.get("input"), str) or not req["input"].strip():
            raise EditlabError(f"{where}: 'input' missing or not a non-empty string")
        if "target" not in req:
            raise EditlabError(f"{where}: 'target' missing")
        rephrases = req.get("rephrases", [])
        if not isinstance(rephrases, list) or not all(isinstance(r, str) for r in rephrases):
            raise EditlabError(f"{where}: 'rephrases' must be a list of strings")
        if kind == "classifier":
            target: str | int = label_id(model, req["target"], where)
        elif isinstance(req["target"], str) and req["target"].strip():
            target = req["target"]
        else:
            raise EditlabError(f"{where}: target {req['target']!r} is not a non-empty string (a seq2seq target)")
        out.append({"input": req["input"], "target": target, "rephrases": list(rephrases)})
    return out


def build_params(cls: type, hparams: Mapping[str, Any], method: str, defaults: Mapping[str, Any] | None = None,
                 fixed: Sequence[str] = ()) -> Any:
    """`cls` from the caller's hyperparameters over `defaults`, each value checked against the field's type and
    bounds (the config schema's, `editlab.config.dataclass_schema`). `fixed`: fields the API sets itself."""
    names = {f.name for f in dataclasses.fields(cls)} - set(fixed)
    unknown = sorted(set(hparams) - names)
    if unknown:
        known = sorted(names | {f.name for f in dataclasses.fields(ApiSettings)})
        why = f" ({unknown[0]} is set by the method name)" if unknown[0] in fixed else ""
        raise EditlabError(f"unknown hyperparameter {unknown[0]!r} for method {method!r}{why} "
                           f"(known: {', '.join(known)})")
    check_values(cls, hparams, method)
    return cls(**{**(defaults or {}), **hparams})


def check_values(cls: type, values: Mapping[str, Any], method: str) -> None:
    """One line for the first value of `values` that its field of `cls` does not allow."""
    properties = dataclass_schema(cls)["properties"]
    for name, value in values.items():
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(properties[name]).iter_errors(value))
        if error is not None:
            raise EditlabError(f"hyperparameter {name!r} of method {method!r}: {error.message}")


def _input_list(values: Any, what: str) -> list[str]:
    """A list of non-empty input strings (a plain string is refused: iterating it would give its characters)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise EditlabError(f"{what}: expected a list of input strings, got {type(values).__name__}")
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise EditlabError(f"{what}: entry {i + 1} is not a non-empty string ({value!r})")
    return list(values)


# -- task glue: the classifier ops (the seq2seq ops are editlab.editors.task_ops.ZsreOps) -----------------
class ClassifierOps:
    """A sequence classifier with `num_labels` logits (one logit: label 1 iff logit > 0), [CLS] queries."""

    task = "classifier"

    def __init__(self, tokenizer: Any, model: Any, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length
        self.binary = int(model.config.num_labels) == 1

    def _targets(self, examples: Sequence[Example]) -> torch.Tensor:
        ids = [int(e.answers[0]) for e in examples]
        return torch.tensor(ids, dtype=torch.float32 if self.binary else torch.long)

    def encode(self, examples: Sequence[Example]) -> Any:
        from editlab.editors.task_ops import Encoded

        enc = self.tokenizer([e.input for e in examples], padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt")
        batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        return Encoded(batch, self._targets(examples), torch.arange(len(examples)), len(examples))

    def queries(self, ffn_inputs: torch.Tensor, enc: Any) -> torch.Tensor:
        return ffn_inputs[:, 0]

    def memory_rows(self, queries: torch.Tensor, enc: Any) -> torch.Tensor:
        return queries

    def model_logits(self, model: Any, enc: Any) -> torch.Tensor:
        logits = model(**enc.batch).logits
        return logits.squeeze(-1) if self.binary else logits

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.binary:
            return F.binary_cross_entropy_with_logits(logits, labels)
        return F.cross_entropy(logits, labels)

    def row_correct(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.binary:
            return (logits > 0).float() == labels
        return logits.argmax(-1) == labels

    def wrong_positions(self, logits: torch.Tensor, labels: torch.Tensor) -> list[int]:
        return [0]

    @torch.no_grad()
    def predict_correct(self, model: Any, examples: Sequence[Example], batch_size: int) -> list[bool]:
        out: list[bool] = []
        device = next(model.parameters()).device
        for start in range(0, len(examples), batch_size):
            enc = self.encode(examples[start:start + batch_size]).to(device)
            out += self.row_correct(self.model_logits(model.eval(), enc), enc.labels).tolist()
        return out


# -- predictions -------------------------------------------------------------------------------------
@torch.no_grad()
def predict(model: Any, tokenizer: Any, texts: Sequence[str], max_length: int = 64, batch_size: int = 64) -> list:
    """Label ids (classifier) or greedy outputs (seq2seq) of `model` as it is now (edits included)."""
    kind = model_kind(model)
    texts = _input_list(texts, "texts")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list = []
    try:
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start:start + batch_size])
            enc = tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            enc = {k: enc[k].to(device) for k in ("input_ids", "attention_mask")}
            if kind == "classifier":
                logits = model(**enc).logits
                out += (logits[:, 0] > 0).long().tolist() if logits.shape[-1] == 1 else logits.argmax(-1).tolist()
            else:
                ids = model.generate(**enc, max_new_tokens=max_length, num_beams=1, do_sample=False,
                                     decoder_start_token_id=model.config.decoder_start_token_id)
                out += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    finally:
        model.train(was_training)
    return out


# -- the entry point ---------------------------------------------------------------------------------
def edit(model: Any, tokenizer: Any, requests: Sequence[Mapping[str, Any]], method: str = "tpatcher", *,
         memory: Sequence[str] | None = None, stats_corpus: Sequence[str] | None = None, seed: int = 0,
         progress: bool | None = None, **hparams: Any) -> EditResult:
    """Apply `requests` ({"input", "target", "rephrases"}) to `model` in place, sequentially, with `method`.

    `memory`: the locality set, inputs whose outputs must not change (T-Patcher's memory, FT+KL's KL set;
    rome / r-rome use it as the covariance corpus unless `stats_corpus` is given). `hparams`: fields of the
    method's dataclass (TPatcherParams, FTParams, FTKLParams, RomeHyperParams) and of ApiSettings.
    `progress`: a bar (True), log lines (False), or by whether stderr is a terminal (None).
    """
    check_method(model, method)
    kind = model_kind(model)
    if isinstance(requests, Mapping | str) or not isinstance(requests, Sequence):
        raise EditlabError(f"requests: expected a list of requests, got {type(requests).__name__} "
                           "(one request: wrap it in a list)")
    reqs = normalise_requests(model, requests)
    api_names = {f.name for f in dataclasses.fields(ApiSettings)}
    api_values = {k: v for k, v in hparams.items() if k in api_names}
    check_values(ApiSettings, api_values, method)
    settings = ApiSettings(**api_values)
    method_hp = {k: v for k, v in hparams.items() if k not in api_names}
    memory = _input_list(memory if memory is not None else [], "memory")
    if stats_corpus is not None:
        stats_corpus = _input_list(stats_corpus, "stats_corpus")
    check_request_tokens(tokenizer, reqs, kind, settings.max_length)
    was_grad = {n: p.requires_grad for n, p in model.named_parameters()}
    was_training = model.training
    model.eval()
    try:
        if method in RANK_ONE_METHODS:
            result = _edit_rank_one(model, tokenizer, reqs, method, memory, stats_corpus, seed, settings,
                                    method_hp, progress)
        else:
            result = _edit_site(model, tokenizer, reqs, method, memory, seed, settings, method_hp, progress)
    finally:
        for name, prm in model.named_parameters():
            prm.requires_grad_(was_grad[name])
        model.train(was_training)
    edit_stack(model).append(result._token)
    return result


def edit_stack(model: Any) -> list[object]:
    """The model's EDIT_STACK, created on first use."""
    if not hasattr(model, EDIT_STACK):
        setattr(model, EDIT_STACK, [])
    return getattr(model, EDIT_STACK)


def check_request_tokens(tokenizer: Any, reqs: Sequence[Mapping[str, Any]], kind: str, max_length: int) -> None:
    """Refuse what would make an edit's record untrue: an input or rephrase longer than `max_length` tokens
    (edited truncated, while the full text keeps its old answer), a seq2seq target longer than that, or one
    with words the tokenizer does not know (the model would learn `<unk>` and generate nothing for them)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    for i, req in enumerate(reqs):
        where = f"requests: request {i + 1}"
        for text in (req["input"], *req["rephrases"]):
            n = len(tokenizer(text)["input_ids"])
            if n > max_length:
                raise EditlabError(f"{where}: {text[:40]!r} is {n} tokens, more than max_length={max_length} "
                                   "(pass a larger max_length)")
        if kind == "seq2seq":
            ids = tokenizer(text_target=str(req["target"]))["input_ids"]
            if len(ids) > max_length:
                raise EditlabError(f"{where}: the target is {len(ids)} tokens, more than max_length={max_length}")
            if unk is not None and unk in ids:
                raise EditlabError(f"{where}: target {req['target']!r} has words the tokenizer does not know (they "
                                   "encode to its unknown token, which the edited model would then generate)")


def _record(index: int, req: Mapping[str, Any], edited: bool, success: bool, reph: float | None, steps: int,
            seconds: float, neurons: int) -> EditRecord:
    return EditRecord(index, req["input"], req["target"], edited, success, reph, steps, seconds, neurons)


def _example(model_kind_: str, i: int, text: str, target: Any) -> Example:
    return Example(f"request{i}", text, (str(target),))


def _site_params(method: str, kind: str, hparams: Mapping[str, Any]) -> Any:
    from editlab.editors.ft import FTParams
    from editlab.editors.ftkl import FTKLParams
    from editlab.editors.tpatcher import TPatcherParams

    if method == "tpatcher":
        # The workflow's per-task values (config.yaml sme.tpatcher.fever / .zsre): classifier as FEVER, seq2seq as zsRE.
        defaults = ({"memory_coef": 5.0, "memory_margin": 3.0, "memory_floor": -3.0} if kind == "classifier"
                    else {"memory_coef": 10.0, "memory_margin": 0.0, "memory_floor": 0.0})
        return build_params(TPatcherParams, hparams, method, defaults)
    # The API edits the FFN site and reverts exactly those weights, so FT/FT+KL tune the FFN here; the
    # reference's whole-layer FT (tune: layer) is the workflow's, on the reference path.
    if hparams.get("tune", "ffn") != "ffn":
        raise EditlabError(f"method {method!r}: tune={hparams['tune']!r} is not available in editlab.edit, which "
                           "tunes the last FFN (tune='ffn'); whole-layer FT runs in the workflow (sme.path: reference)")
    return build_params(FTParams if method == "ft" else FTKLParams, {**hparams, "tune": "ffn"}, method)


def _edit_site(model: Any, tokenizer: Any, reqs: list[dict[str, Any]], method: str, memory: list[str], seed: int,
               settings: ApiSettings, hparams: Mapping[str, Any], progress: bool | None) -> EditResult:
    from editlab.editors.ft import FT
    from editlab.editors.ftkl import FTKL
    from editlab.editors.site import BartLastFFN, BertLastFFN
    from editlab.editors.task_ops import ZsreOps
    from editlab.editors.tpatcher import TPatcher
    from editlab.sme.paths import execution_path

    kind = model_kind(model)
    params = _site_params(method, kind, hparams)
    if method in ("tpatcher", "ftkl") and not memory:
        raise EditlabError(f"method {method!r} needs a locality set: pass memory=[inputs whose outputs must not "
                           "change] (--memory FILE on the command line)")
    device = next(model.parameters()).device
    model.requires_grad_(False)
    site = BertLastFFN(model) if kind == "classifier" else BartLastFFN(model)
    if kind == "classifier":
        ops: Any = ClassifierOps(tokenizer, model, settings.max_length)
    else:
        ops = ZsreOps(tokenizer, model, settings.max_length, label_smoothing=0.0)
    path = execution_path(settings.path, site, ops, device, settings.eval_batch_size)
    examples = [_example(kind, i, r["input"], r["target"]) for i, r in enumerate(reqs)]
    if kind == "seq2seq":
        site.check_head(ops.encode(examples[:1]).to(device).batch)
    # The locality set keeps the base model's own outputs: its memory rows are the queries of those outputs.
    base_out = predict(model, tokenizer, memory, settings.max_length, settings.eval_batch_size) if memory else []
    memory_examples = [_example(kind, i, m, o) for i, (m, o) in enumerate(zip(memory, base_out, strict=True))]
    base = {n: p.detach().clone() for n, p in model.named_parameters()
            if any(p is q for q in site.ffn_parameters())}
    editor = {"tpatcher": TPatcher, "ft": FT, "ftkl": FTKL}[method](params, seed)
    editor.prepare(path, memory_examples, memory_examples)
    records: list[EditRecord] = []
    n_edits = 0
    with Progress(len(reqs), f"editlab edit ({method})", unit="request", bar=progress) as bar:
        for i, (req, example) in enumerate(zip(reqs, examples, strict=True)):
            was_error = not path.correct([example])[0]
            if not was_error:
                records.append(_record(i, req, False, True, None, 0, 0.0, 0))
            else:
                start = time.perf_counter()
                outcome = editor.edit(example, n_edits)
                seconds = time.perf_counter() - start
                n_edits += 1
                reph = [_example(kind, i, r, req["target"]) for r in req["rephrases"]]
                reph_acc = sum(path.correct(reph)) / len(reph) if reph else None
                records.append(_record(i, req, True, bool(path.correct([example])[0]), reph_acc, outcome.steps,
                                       seconds, outcome.n_neurons))
            done = [r for r in records if r.edited]
            bar.update(edits=len(done), SR=sum(r.success for r in done) / len(done) if done else 1.0,
                       s_per_edit=sum(r.seconds for r in done) / len(done) if done else 0.0)
    undo = None
    if method == "tpatcher" and site.bank.n_committed:
        from editlab.export import widen_in_place

        # The neurons become extra units of the FFN (zero units elsewhere): the model is then a plain Hugging Face
        # model computing exactly what its saved checkpoint computes.
        undo = widen_in_place(model, site)
    return EditResult(model, tokenizer, method, records, params, settings, _site=site if method == "tpatcher" else None,
                      _undo=undo, _base=base)


# -- rank-one editing -------------------------------------------------------------------------------
def _edit_rank_one(model: Any, tokenizer: Any, reqs: list[dict[str, Any]], method: str, memory: list[str],
                   stats_corpus: Sequence[str] | None, seed: int, settings: ApiSettings,
                   hparams: Mapping[str, Any], progress: bool | None) -> EditResult:
    from editlab.nmt.tokenizer import HubTokenizer
    from editlab.rome.batches import Seq2SeqIds, predicts_target
    from editlab.rome.compute import EditIds
    from editlab.rome.editor import apply_rome
    from editlab.rome.hparams import RomeHyperParams
    from editlab.rome.locate import locate_ffn_output
    from editlab.rome.stats import second_moment

    # Default locus: decoder layer 0 (the mini NMT profile's decoder locus) at the first target token the model gets wrong (no trigger span
    # is given by a request); `side="encoder"` keys on the input's last token instead.
    # Otherwise the v* search and the contexts take the mini NMT profile's values (config.yaml nmt.rome).
    defaults = {"side": "decoder", "layer": 0, "mom2_ridge": 0.1, "v_num_grad_steps": 40, "n_context_variants": 5,
                "max_prefix_words": 1}
    hp = build_params(RomeHyperParams, hparams, method, defaults, fixed=("key_mode",))
    hp = dataclasses.replace(hp, key_mode=method)
    corpus = list(stats_corpus) if stats_corpus is not None else list(memory)
    if not corpus:
        raise EditlabError(f"method {method!r} needs a corpus for its key covariance statistics: pass "
                           "stats_corpus=[inputs] or memory=[inputs] (--memory FILE on the command line)")
    device = str(next(model.parameters()).device)
    tok = HubTokenizer(tokenizer, int(model.config.decoder_start_token_id))
    locus = locate_ffn_output(model, hp.side, hp.layer)
    # The decoder side is teacher-forced on the model's own outputs for the corpus (what it produces now).
    outputs = predict(model, tokenizer, corpus, settings.max_length, settings.eval_batch_size)
    ids = [Seq2SeqIds(tok.encode_source(s), tok.encode_target(o)) for s, o in zip(corpus, outputs, strict=True)]
    stats = second_moment(model, locus, ids, tok.specials, batch_size=settings.eval_batch_size, device=device)
    words = sorted({w for s in corpus for w in s.split()})
    base = {n: p.detach().clone() for n, p in model.named_parameters() if n == f"{locus.name}.weight"}
    records: list[EditRecord] = []
    with Progress(len(reqs), f"editlab edit ({method})", unit="request", bar=progress) as bar:
        for i, req in enumerate(reqs):
            pair = Seq2SeqIds(tok.encode_source(req["input"]), tok.encode_target(req["target"]))
            if predicts_target(model, pair, tok.specials, device):
                records.append(_record(i, req, False, True, None, 0, 0.0, 0))
            else:
                start = time.perf_counter()
                current = predict(model, tokenizer, [req["input"]], settings.max_length)[0]
                position = _key_position(hp.side, pair, tok.encode_target(current))
                rng = random.Random(f"{seed}-{i}")
                contexts = []
                for _ in range(hp.n_context_variants):
                    prefix = " ".join(rng.choice(words) for _ in range(rng.randint(1, hp.max_prefix_words)))
                    src = tok.encode_source(f"{prefix} {req['input']}")
                    contexts.append((Seq2SeqIds(src, pair.target),
                                     len(src) - 2 if hp.side == "encoder" else position))
                result = apply_rome(model, EditIds(pair, position, contexts), hp, stats, tok.specials, device)
                seconds = time.perf_counter() - start
                reph = [Seq2SeqIds(tok.encode_source(r), pair.target) for r in req["rephrases"]]
                reph_acc = (sum(predicts_target(model, p, tok.specials, device) for p in reph) / len(reph)
                            if reph else None)
                records.append(_record(i, req, True, predicts_target(model, pair, tok.specials, device), reph_acc,
                                       len(result.v_losses), seconds, 0))
            done = [r for r in records if r.edited]
            bar.update(edits=len(done), SR=sum(r.success for r in done) / len(done) if done else 1.0)
    return EditResult(model, tokenizer, method, records, hp, settings, _base=base)


def _key_position(side: str, pair: Any, current: list[int]) -> int:
    """Encoder: the input's last token before EOS. Decoder: the first target position the model gets wrong."""
    if side == "encoder":
        return max(0, len(pair.source) - 2)
    for i, (a, b) in enumerate(zip(pair.target, current)):
        if a != b:
            return i
    return min(len(pair.target), len(current)) - 1
