"""Code dependencies of a stage, computed from its imports instead of listed by hand.

The closure of a module is the module, its parent packages (Python runs their `__init__` first) and,
recursively, every module of the package that it imports anywhere: at the top, inside functions (lazy
imports) or under `if TYPE_CHECKING` (a superset is safe; a missing module would leave a stale cache).
The closure is hashed on a normalised form of each file, its AST with docstrings dropped, so a comment,
docstring or formatting edit changes nothing while any change of code does. The workflow passes the
digest to each rule as `params.code`; Snakemake's `params` rerun trigger then reruns exactly the jobs
whose imported code changed (docs/scaling.md, "Code dependencies").
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

from editlab.errors import EditlabError

TOP = "editlab"


def default_source_root() -> Path:
    """The directory that holds the `editlab` package of this checkout (its `src/`)."""
    return Path(__file__).resolve().parents[2]


class SourceTree:
    """The modules of one top-level package below `root` (a `src/` directory); parses each file once."""

    def __init__(self, root: str | Path | None = None, top: str = TOP) -> None:
        self.root = Path(root) if root is not None else default_source_root()
        self.top = top
        self._imports: dict[str, set[str]] = {}
        self._normalised: dict[str, str] = {}

    def module_file(self, name: str) -> Path | None:
        """The file of module `name` (a package's `__init__.py`), or None if it is not in the tree."""
        if name != self.top and not name.startswith(self.top + "."):
            return None
        base = self.root.joinpath(*name.split("."))
        for path in (base / "__init__.py", base.with_suffix(".py")):
            if path.is_file():
                return path
        return None

    def is_package(self, name: str) -> bool:
        path = self.module_file(name)
        return path is not None and path.name == "__init__.py"

    def parents(self, name: str) -> list[str]:
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]

    def imports(self, name: str) -> set[str]:
        """The in-package modules that module `name` imports anywhere in its body."""
        if name not in self._imports:
            self._imports[name] = self._parse_imports(name)
        return self._imports[name]

    def _parse_imports(self, name: str) -> set[str]:
        path = self.module_file(name)
        if path is None:
            raise EditlabError(f"code dependencies: module {name} has no file under {self.root}")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if self.is_package(name) else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node, package, path)
                if base is None:
                    continue
                found.add(base)
                # `from pkg import sub` imports the submodule pkg.sub when there is one
                found.update(f"{base}.{alias.name}" for alias in node.names
                             if self.module_file(f"{base}.{alias.name}") is not None)
        return {m for m in found if self.module_file(m) is not None}

    def _absolute(self, node: ast.ImportFrom, package: str, path: Path) -> str | None:
        if not node.level:
            return node.module
        parts = package.split(".")
        if node.level - 1 >= len(parts):
            raise EditlabError(f"code dependencies: {path}:{node.lineno}: relative import beyond the package")
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    def closure(self, entries: Iterable[str]) -> list[str]:
        """Every in-package module that importing `entries` may load, sorted."""
        todo = list(entries)
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            if self.module_file(name) is None:
                raise EditlabError(f"code dependencies: entry module {name} is not in {self.root / self.top}")
            seen.add(name)
            todo.extend(self.parents(name))
            todo.extend(self.imports(name) - seen)
        return sorted(seen)

    def normalised(self, name: str) -> str:
        """Module `name` as its AST without docstrings: comments, docstrings and layout do not count."""
        if name not in self._normalised:
            self._normalised[name] = self._normalise(name)
        return self._normalised[name]

    def _normalise(self, name: str) -> str:
        path = self.module_file(name)
        assert path is not None
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
        return ast.dump(tree, annotate_fields=False, include_attributes=False)

    def digest(self, modules: Iterable[str]) -> str:
        """SHA-256 (first 16 hex digits) of the normalised sources of `modules`."""
        h = hashlib.sha256()
        for name in sorted(modules):
            h.update(name.encode() + b"\0" + self.normalised(name).encode() + b"\0")
        return h.hexdigest()[:16]
