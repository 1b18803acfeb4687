"""Load, merge and validate workflow configs against the JSON-Schema in workflow/schemas/.

The schema is split into one file per config section (`<section>.schema.yaml`) that the top-level
`config.schema.yaml` references with `$ref`; this keeps sections owned by different stages apart.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Mapping
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


def _load_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge `override` into a copy of `base` (the way snakemake merges --configfile)."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(*override_files: str | Path, base: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The default config deep-merged with each override file, validated."""
    config = _load_yaml(Path(base)) or {}
    for path in override_files:
        config = deep_merge(config, _load_yaml(Path(path)) or {})
    validate_config(config)
    return config


def _schema_and_registry(schema_dir: Path) -> tuple[dict[str, Any], Registry]:
    resources = []
    for path in sorted(schema_dir.glob("*.schema.yaml")):
        resources.append((path.name, Resource.from_contents(_load_yaml(path), default_specification=DRAFT202012)))
    registry = Registry().with_resources(resources)
    main = registry.contents("config.schema.yaml")
    return main, registry


def _describe(error: jsonschema.ValidationError, config: Mapping[str, Any]) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, Mapping) else []
        msgs = []
        for key in extra:
            full = f"{path}.{key}" if path else key
            hint = difflib.get_close_matches(key, allowed, n=1)
            msgs.append(f"config key '{full}': unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
        return "; ".join(msgs)
    if error.validator == "required":
        return f"config key '{path or '<top>'}': {error.message}"
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
