"""Load, resolve and validate workflow configs; the JSON-Schema's method sections come from the dataclasses.

Profiles (docs/design.md §12): a profile file stands alone unless it names the file it builds on with a
top-level `extends:` key (a path relative to the file). `resolve_config` reads the chain, deep-merges it,
then lays any further files and `--config` values over it. No value of a profile reaches another one
unless its file says `extends`.

The schema is split into one file per config section (`<section>.schema.yaml`) that the top-level
`config.schema.yaml` references with `$ref`. A schema node that says `x-dataclass: module:Class` gets its
properties (type, default, constraints in the field metadata) generated from that dataclass, so a
hyperparameter is declared once, in its dataclass (`param(...)` below).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import importlib
import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from editlab.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "workflow" / "schemas"
DEFAULT_CONFIG = REPO_ROOT / "config.yaml"
EXTENDS = "extends"
DATACLASS_KEY = "x-dataclass"
EXCLUDE_KEY = "x-exclude"
SCHEMA_META = "schema"  # dataclass field metadata key holding the field's JSON-Schema constraints


# --- YAML -------------------------------------------------------------------------------------------------

class _StrictLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping (PyYAML keeps the last one silently)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<:` merges are not duplicates
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (line {key_node.start_mark.line + 1}; first on line "
                f"{seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def load_yaml(path: str | Path) -> Any:
    """A YAML file (safe types only); missing file, bad YAML and duplicate keys are one-line ConfigErrors."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8") from None
    except yaml.constructor.ConstructorError as exc:
        if exc.problem and exc.problem.startswith("duplicate key"):
            raise ConfigError(f"{path}: {exc.problem}") from None
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None


_load_yaml = load_yaml  # older name, kept for callers outside this module


# --- profiles ---------------------------------------------------------------------------------------------

def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge `override` into a copy of `base` (the way snakemake merges --configfile)."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_profile(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """One profile file with the chain it `extends` merged under it (the `extends` key itself removed)."""
    path = Path(path).resolve()
    if path in _chain:
        raise ConfigError(f"{path}: 'extends' cycle ({' -> '.join(str(p) for p in (*_chain, path))})")
    data = load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: a config file must be a mapping of keys, got {type(data).__name__}")
    data = dict(data)
    parent = data.pop(EXTENDS, None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: config key '{EXTENDS}': must be a file path, got {parent!r}")
    return deep_merge(resolve_profile(path.parent / parent, (*_chain, path)), data)


def resolve_config(files: Sequence[str | Path] = (), overrides: Mapping[str, Any] | None = None,
                   default: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The config a run gets: `default` when no file is given; else the first file as a profile (with the
    chain it extends), each further file (with its own chain) merged over it, then `overrides`
    (snakemake's --config values). Not validated."""
    config = resolve_profile(default) if not files else {}
    for path in files:
        config = deep_merge(config, resolve_profile(path))
    return deep_merge(config, overrides or {})


def load_config(*override_files: str | Path, base: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The resolved config of these profile files (`base` when none is given), validated."""
    config = resolve_config(override_files, default=base)
    validate_config(config)
    return config


# --- dataclasses as the schema's source -------------------------------------------------------------------

def param(default: Any = dataclasses.MISSING, description: str = "", *, default_factory: Any = dataclasses.MISSING,
          **constraints: Any) -> Any:
    """A dataclass field with its JSON-Schema description and constraints (minimum, enum, ...)."""
    schema = dict(constraints)
    if description:
        schema["description"] = description
    if "type" in schema or "default" in schema:
        raise TypeError("param(): type and default come from the annotation and the default value")
    return dataclasses.field(default=default, default_factory=default_factory, metadata={SCHEMA_META: schema})


def _import(spec: str) -> Any:
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"schema: cannot import {spec!r} ({exc})") from None


def _type_schema(tp: Any) -> dict[str, Any]:
    """JSON-Schema type of a dataclass annotation (the types the config dataclasses use)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        out = _type_schema(inner[0])
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        else:
            out["type"] = [out["type"], "null"]
        return out
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (tuple, list, Sequence):
        return {"type": "array", "items": _type_schema(args[0])} if args else {"type": "array"}
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return {"type": "object", "additionalProperties": _type_schema(args[1])} if args else {"type": "object"}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"unsupported field type {tp}")


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json_default(v) for k, v in value.items()}
    return value


def config_fields(cls: type, exclude: Iterable[str] = ()) -> dict[str, dataclasses.Field[Any]]:
    """The config keys of a dataclass: its fields, a nested dataclass field's own fields flattened in."""
    out: dict[str, dataclasses.Field[Any]] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            out.update(config_fields(hints[f.name], exclude))
        else:
            out[f.name] = f
    return out


def dataclass_schema(cls: type, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """properties / required / additionalProperties of the config section that `cls` reads."""
    owners: dict[str, type] = {}

    def collect(c: type) -> None:
        hints = typing.get_type_hints(c)
        for f in dataclasses.fields(c):
            if f.name in exclude:
                continue
            if dataclasses.is_dataclass(hints[f.name]):
                collect(hints[f.name])
            else:
                owners[f.name] = c

    collect(cls)
    props: dict[str, Any] = {}
    required = []
    for name, f in config_fields(cls, exclude).items():
        prop = _type_schema(typing.get_type_hints(owners[name])[name])
        prop.update(f.metadata.get(SCHEMA_META, {}))
        if f.default is not dataclasses.MISSING:
            prop["default"] = _json_default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            prop["default"] = _json_default(f.default_factory())
        else:
            required.append(name)
        props[name] = prop
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    return out


def _expand(node: Any, where: str) -> Any:
    """Replace every `x-dataclass` node by the generated schema (its other `properties` are kept)."""
    if isinstance(node, list):
        return [_expand(v, where) for v in node]
    if not isinstance(node, Mapping):
        return node
    out = {k: _expand(v, where) for k, v in node.items()}
    spec = out.pop(DATACLASS_KEY, None)
    exclude = out.pop(EXCLUDE_KEY, [])
    if spec is None:
        return out
    generated = dataclass_schema(_import(spec), exclude)
    extra = dict(out.get("properties") or {})
    clash = sorted(set(extra) & set(generated["properties"]))
    if clash:
        raise ConfigError(f"{where}: properties {clash} are fields of {spec}; declare them there only")
    out.update({k: v for k, v in generated.items() if k != "properties"})
    out["properties"] = {**generated["properties"], **extra}
    return out


def _schema_and_registry(schema_dir: Path) -> tuple[dict[str, Any], Registry]:
    resources = []
    for path in sorted(schema_dir.glob("*.schema.yaml")):
        contents = _expand(load_yaml(path), str(path))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    registry = Registry().with_resources(resources)
    main = registry.contents("config.schema.yaml")
    return main, registry


def schema_keys(name: str, *path: str, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """The property names of one node of a schema file (`path` walks `properties`), read without expanding
    its dataclass nodes: a job that checks keys this way imports no other method's module (the stage's code
    dependencies stay its own imports, editlab.stages.codedeps)."""
    node = load_yaml(schema_dir / name)
    for key in path:
        node = node["properties"][key]
    return list(node["properties"])


def generated_schema(name: str, schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """One schema file with its dataclass nodes expanded (what validation uses; for tests and docs)."""
    return _expand(load_yaml(schema_dir / name), name)


# --- one policy for unknown keys ----------------------------------------------------------------------------

def unknown_key_message(where: str, key: str, allowed: Iterable[str]) -> str:
    full = f"{where}.{key}" if where else key
    hint = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1)
    return f"config key '{full}': unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else "")


def check_keys(section: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse the first key of `section` that is not in `allowed`, as the schema does."""
    allowed = list(allowed)
    for key in section:
        if key not in allowed:
            raise ConfigError("invalid config: " + unknown_key_message(where, key, allowed))


def from_section(cls: type, section: Mapping[str, Any] | None, where: str, **fixed: Any) -> Any:
    """`cls` from its config section (nested dataclass fields read their keys from the same section);
    `fixed` values (not config keys) are passed as given. Unknown keys: the schema's message."""
    section = dict(section or {})
    known = config_fields(cls)
    check_keys(section, known, where)
    values = {**section, **fixed}
    for name, f in known.items():  # as the schema's `required`
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and name not in values:
            raise ConfigError(f"invalid config: config key '{where}.{name}': missing")
    return _build(cls, values)


def _build(cls: type, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]) and f.name not in values:
            kwargs[f.name] = _build(hints[f.name], values)
        elif f.name in values:
            kwargs[f.name] = values[f.name]
    return cls(**kwargs)


# --- validation -------------------------------------------------------------------------------------------

def _describe(error: jsonschema.ValidationError, config: Mapping[str, Any]) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, Mapping) else []
        return "; ".join(unknown_key_message(path, key, allowed) for key in extra)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [k for k in error.validator_value if k not in error.instance]
        # a conditional requirement (if/then/else) says why in its description
        why = error.schema.get("description") if {"then", "else"} & set(error.schema_path) else None
        return "; ".join(f"config key '{path + '.' if path else ''}{k}': missing" + (f" ({why})" if why else "")
                         for k in missing)
    return f"config key '{path or '<top>'}': {error.message}"


def validate_config(config: Mapping[str, Any], schema_dir: Path = SCHEMA_DIR) -> None:
    """Raise ConfigError naming the first offending key (unknown keys get a did-you-mean hint)."""
    schema, registry = _schema_and_registry(schema_dir)
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise ConfigError("invalid config: " + _describe(errors[0], config))


def config_hash(config: Mapping[str, Any]) -> str:
    """Stable short hash of a config (for provenance records)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
