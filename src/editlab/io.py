"""File input and output with one error path: every result appears whole or not at all, and every failure
to read or write is one line naming the file (and line) and the problem.

`reading(path)` / `writing(path)` turn OSError, UnicodeDecodeError and JSON errors raised inside them into
`DataFormatError` / `FileWriteError` lines (`<path>: No space left on device`, `<path>:<line>: not UTF-8`);
every reader and writer here, and the model and patch writers, go through them. The atomic helpers write
to a temporary sibling (`.<name>.XXXXXXXX[.tmp]`) and rename it into place; a killed writer's leftovers
are removed by the next write of the same target (`clean_leftovers`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from editlab.errors import DataFormatError, EditlabError, FileWriteError

PathLike = str | os.PathLike[str]

# mkstemp/mkdtemp names: the prefix, 8 random characters from this alphabet, then the suffix
_RANDOM = r"[a-z0-9_]{8}"


def _strerror(exc: OSError) -> str:
    if exc.strerror:
        return exc.strerror
    return os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__


def _errno_in(exc: BaseException) -> int | None:
    """The errno inside a library error that is not an OSError (safetensors' `IoError(Os { code: 28, ...
    })`, Rust's `(os error 28)`): so a full disk is still reported as one."""
    text = str(exc)
    for pattern in (r"os error (\d+)", r"Os \{ code: (\d+)"):
        match = re.search(pattern, text)
        if match:
            return int(match.group(1))
    return None


def decode_error_line(data: bytes, exc: UnicodeDecodeError) -> int:
    """1-based line of a decode error's first bad byte (the exception's position is a byte offset)."""
    return data.count(b"\n", 0, exc.start) + 1


@contextlib.contextmanager
def reading(path: PathLike, what: str = "file") -> Iterator[Path]:
    """Turn a failure to read `path` into one DataFormatError line naming it (not found, a directory,
    permission denied, not UTF-8, invalid JSON)."""
    try:
        yield Path(path)
    except DataFormatError:
        raise
    except FileNotFoundError:
        raise DataFormatError(path, f"{what} not found") from None
    except IsADirectoryError:
        raise DataFormatError(path, f"is a directory, expected the {what}" if what != "file" else "is a directory") from None
    except NotADirectoryError:
        raise DataFormatError(path, "a parent of this path is a file, not a directory") from None
    except UnicodeDecodeError as exc:
        line = decode_error_line(exc.object, exc) if isinstance(exc.object, bytes | bytearray) else None
        raise DataFormatError(path, "not UTF-8", line=line) from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
    except OSError as exc:
        raise DataFormatError(path, _strerror(exc)) from None


@contextlib.contextmanager
def writing(path: PathLike) -> Iterator[Path]:
    """Turn a failure to write `path` (full disk, read-only or missing directory, a directory where a file
    goes) into one FileWriteError line `<path>: <strerror>`."""
    try:
        yield Path(path)
    except EditlabError:
        raise
    except OSError as exc:
        raise FileWriteError(path, _strerror(exc)) from None
    except Exception as exc:   # safetensors and others wrap the OS error in their own type
        code = _errno_in(exc)
        if code is None:
            raise
        raise FileWriteError(path, os.strerror(code)) from None


def read_text(path: PathLike, what: str = "file") -> str:
    """A UTF-8 text file; a bad byte is reported as `<path>:<line>: not UTF-8`."""
    with reading(path, what):
        data = Path(path).read_bytes()
        return data.decode("utf-8")


def copy_file(src: PathLike, dst: PathLike) -> None:
    """Copy with its mtime (like shutil.copy2), a read error naming `src`, a write error naming `dst`."""
    with reading(src):
        fin = open(src, "rb")
    with fin:
        with writing(dst):
            fout = open(dst, "wb")
        with fout:
            while True:
                with reading(src):
                    block = fin.read(1 << 20)
                if not block:
                    break
                with writing(dst):
                    fout.write(block)
    with writing(dst):
        shutil.copystat(src, dst)


@contextlib.contextmanager
def _named_as(tmp: Path, target: Path) -> Iterator[None]:
    """A write error inside the temporary copy names the path the user asked for."""
    try:
        yield
    except FileWriteError as exc:
        if exc.path == str(tmp) or exc.path.startswith(f"{tmp}{os.sep}"):
            raise FileWriteError(f"{target}{exc.path[len(str(tmp)):]}", exc.problem, exc.line) from None
        raise


def leftovers(target: PathLike) -> list[Path]:
    """Temporary siblings of `target` that a killed atomic write left behind (`.name.XXXXXXXX[.tmp|.old]`)."""
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{_RANDOM}(?:\.tmp|\.old)?")
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name))


def clean_leftovers(target: PathLike) -> list[Path]:
    """Remove what a killed write of `target` left behind; called by every atomic write of it and at the
    start of the jobs that write models and checkpoints. Returns what was removed."""
    removed = leftovers(target)
    for p in removed:
        with writing(p):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
    return removed


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FileWriteError(target, "a parent of this path is a file, not a directory") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_sibling(path: Path, suffix: str = ".tmp") -> Path:
    # Same directory as the target so os.replace is a rename on one filesystem.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())   # mkstemp creates 0600; results get an ordinary file's permissions
    return Path(name)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only if the block succeeds. Any write
    error inside the block is reported as `<path>: <strerror>`."""
    target = Path(path)
    with writing(target):
        _make_parent(target)
        if target.is_dir():
            raise FileWriteError(target, "is a directory, a file was to be written here")
        clean_leftovers(target)
        tmp = _tmp_sibling(target)
    try:
        with _named_as(tmp, target), writing(target):
            yield tmp
            _fsync(tmp)
            os.chmod(tmp, 0o666 & ~_umask())   # some writers (safetensors, mkstemp) create 0600 files
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False   # e.g. a filesystem without exchange support: fall back to two renames
    raise OSError(code, os.strerror(code), str(b))


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` at `target`; the old `target` is never deleted before the new one is in place."""
    if not target.exists():
        os.replace(new, target)
        return
    if _exchange(new, target):
        if new.is_symlink():               # `new` now holds the old directory (or the link to it)
            new.unlink()
        else:
            shutil.rmtree(new)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, aside)              # a directory may be renamed onto an empty one
    try:
        os.replace(new, target)
    except OSError:
        os.replace(aside, target)          # put the old directory back
        raise
    shutil.rmtree(aside)


@contextlib.contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """Yield a temporary directory; it replaces `path` only if the block succeeds.

    The new directory and the old one are swapped in one rename where the system can (Linux), so `path`
    always holds one of them; the old one is removed only afterwards. A kill at any point leaves at most a
    `.<name>.XXXXXXXX[.old]` sibling, which the next write of `path` removes.
    """
    target = Path(path)
    with writing(target):
        _make_parent(target)
        if target.exists() and not target.is_dir():
            raise FileWriteError(target, "exists and is not a directory")
        clean_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with _named_as(tmp, target), writing(target):
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())   # mkdtemp creates 0700 directories
            _replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def check_out_dir(path: PathLike, force: bool, inputs: Iterable[PathLike] = ()) -> Path:
    """A command's `--out` directory: new, or empty, or replaced only with `force` (never a file), and never
    one of `inputs` or a folder holding one, even with `force`: replacing it would delete what is being read."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise FileWriteError(out, "exists and is not a directory (--out names the directory to write)")
    resolved = out.resolve()
    for item in inputs:
        src = Path(item).resolve()
        if resolved == src or resolved in src.parents:
            raise FileWriteError(out, f"--out is (or contains) the input {item}; choose another directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise FileWriteError(out, "directory exists and is not empty; choose a new --out, or pass --force to "
                                  "replace it (its files are deleted)")
    return out


def check_out_file(path: PathLike) -> Path:
    """A command's output file, checked before the work that produces it (not a directory, parent not a file)."""
    out = Path(path)
    if out.is_dir():
        raise FileWriteError(out, "is a directory, a file was to be written here")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise FileWriteError(out, "a parent of this path is a file, not a directory")
            break
    return out


def write_bytes(path: PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_jsonl(path: PathLike, rows: Iterable[dict[str, Any]]) -> None:
    write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def save_torch(path: PathLike, obj: Any) -> None:
    """torch.save atomically; serialised in memory first so that a write error is an OSError with its
    errno, not torch's `basic_ios::clear`."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def read_json(path: PathLike) -> Any:
    text = read_text(path)
    with reading(path):
        return json.loads(text)


def read_jsonl(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a bad line names file and line."""
    with reading(path):
        fh = open(path, "rb")
    with fh:
        lineno = 0
        while True:
            with reading(path):
                raw = fh.readline()
            if not raw:
                return
            lineno += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataFormatError(path, "not UTF-8", line=lineno) from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(path, f"malformed JSON ({exc.msg})", line=lineno) from None
            if not isinstance(obj, dict):
                raise DataFormatError(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
            yield lineno, obj


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an example id (id lists are one id a line, compared exactly), or None."""
    if value == "":
        return "empty id"
    if value != value.strip():
        return f"id {value!r} has leading or trailing whitespace"
    if "\n" in value or "\r" in value:
        return f"id {value!r} contains a line break"
    return None


def write_ids(path: PathLike, ids: Iterable[str]) -> None:
    ids = list(ids)
    for i in ids:
        problem = id_problem(i)
        if problem:
            raise FileWriteError(path, f"cannot write {problem} to an id list")
    write_text(path, "".join(f"{i}\n" for i in ids))


def read_ids(path: PathLike) -> list[str]:
    """One id a line, exactly as written (no stripping: an id with spaces would silently become another)."""
    text = read_text(path, "id list")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()   # the final newline
    ids = []
    for lineno, line in enumerate(lines, start=1):
        problem = "Windows line ending (\\r\\n)" if line.endswith("\r") and line.strip() else id_problem(line)
        if problem:
            raise DataFormatError(path, problem, line=lineno)
        ids.append(line)
    return ids

