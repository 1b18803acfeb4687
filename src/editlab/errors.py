"""Exceptions that carry a user-facing message naming the file or key at fault."""

from __future__ import annotations


class EditlabError(Exception):
    """Base class: the message is meant for the user as-is, no traceback needed."""


class ConfigError(EditlabError):
    """The configuration is invalid; the message names the key."""


class DataFormatError(EditlabError):
    """An input file is malformed; the message names the file, line and problem."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem
