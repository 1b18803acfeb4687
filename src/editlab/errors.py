"""Exceptions that carry a user-facing message naming the file or key at fault."""

from __future__ import annotations


class EditlabError(Exception):
    """Base class: the message is meant for the user as-is, no traceback needed."""


class ConfigError(EditlabError):
    """The configuration is invalid; the message names the key."""


class FileProblem(EditlabError):
    """A problem with one file: the message is `<path>[:<line>]: <problem>`, on one line."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        problem = " ".join(str(problem).split()) or type(self).__name__   # one line, whatever the cause said
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


class DataFormatError(FileProblem):
    """An input file is missing, unreadable or malformed; the message names the file, line and problem."""


class FileWriteError(FileProblem):
    """An output could not be written (full disk, permissions, a file in the way): `<path>: <strerror>`."""
