"""Checksummed, retried, resumable, atomic downloads (paper profile data).

Bytes go to `<dest>.part`; a retry or a later rerun resumes it with an HTTP Range request. Only a
complete file whose SHA-256 matches (when one is configured) is renamed onto `dest`, so `dest` is
whole or absent. A checksum mismatch removes the partial file and names URL, expected and actual hash.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editlab.config import from_section, param
from editlab.errors import DataFormatError, EditlabError

log = logging.getLogger("editlab.download")

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class DownloadConfig:
    """config section data.download."""

    retries: int = param(5, "extra attempts after a network error (each resumes)", minimum=0)
    timeout_s: float = param(60.0, exclusiveMinimum=0)
    backoff_s: float = param(2.0, "wait backoff_s * 2**attempt before a retry", minimum=0)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> DownloadConfig:
        cfg = from_section(cls, section, "data.download")
        # as before: ints from YAML become the float seconds the socket timeout takes
        return cls(retries=int(cfg.retries), timeout_s=float(cfg.timeout_s), backoff_s=float(cfg.backoff_s))


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _fetch_once(url: str, part: Path, timeout_s: float) -> None:
    """Append the missing bytes of `url` to `part` (restart when the server ignores Range)."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left to fetch: the part file is complete
            return
        raise
    with response:
        resumed = offset and response.status == 206
        if offset and not resumed:
            log.info("server ignored the Range request; restarting %s from byte 0", url)
        expected = response.headers.get("Content-Length")
        written = 0
        with open(part, "ab" if resumed else "wb") as fh:
            for block in iter(lambda: response.read(CHUNK_BYTES), b""):
                fh.write(block)
                written += len(block)
            fh.flush()
            os.fsync(fh.fileno())
        if expected is not None and written < int(expected):
            raise http.client.IncompleteRead(b"", int(expected) - written)


# Network errors worth another attempt; anything else (404, bad URL) fails at once.
TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (408, 429) or exc.code >= 500
    return isinstance(exc, TRANSIENT)


def download(url: str, dest: str | os.PathLike[str], sha256: str | None = None,
             config: DownloadConfig = DownloadConfig()) -> str:
    """Download `url` to `dest` (resuming `<dest>.part`), verify, rename; return the SHA-256."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    for attempt in range(config.retries + 1):
        try:
            _fetch_once(url, part, config.timeout_s)
            break
        except Exception as exc:  # noqa: BLE001 - classified right below
            if not _is_transient(exc):
                raise EditlabError(f"download of {url} failed: {exc}") from None
            have = part.stat().st_size if part.exists() else 0
            if attempt == config.retries:
                raise EditlabError(
                    f"download of {url} failed after {attempt + 1} attempts ({exc!r}); {have} bytes kept in "
                    f"{part}, a rerun resumes from there") from None
            wait = config.backoff_s * 2**attempt
            log.warning("download of %s interrupted at %d bytes (%r); retry %d/%d in %.1f s",
                        url, have, exc, attempt + 1, config.retries, wait)
            time.sleep(wait)
    return publish(part, dest, url, sha256)


def publish(part: Path, dest: Path, url: str, sha256: str | None) -> str:
    """Verify a complete `part` file against `sha256` (when given) and rename it onto `dest`; return its
    SHA-256. A mismatch removes `part` and writes nothing."""
    actual = sha256_of(part)
    if sha256 and actual.lower() != sha256.lower():
        part.unlink()
        raise DataFormatError(url, f"checksum mismatch: expected sha256 {sha256}, got {actual}; "
                                   f"partial file {part} removed")
    if not sha256:
        log.warning("no sha256 configured for %s; got %s (pin it in the config to verify reruns)", url, actual)
    os.replace(part, dest)
    log.info("downloaded %s -> %s (sha256 %s)", url, dest, actual)
    return actual
