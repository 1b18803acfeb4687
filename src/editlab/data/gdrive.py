"""The Cao et al. equivalence sets from the MEND release on Google Drive, through gdown (stage `download_cao`).

The MEND README (github.com/eric-mitchell/mend) links the Drive folder MEND_FOLDER_ID; the T-Patcher README
points to the same files (in the authors' data.zip). Each of the four release files is fetched by its Drive
file id: pinned in `data.cao.download.ids`, or, where an id is null, resolved once from the folder's listing
(gdown) by the release file name and logged so that it can be pinned. `data.cao.download.url` is the URL
template (`{id}` is replaced); a test points it at a loopback server. Retries, the `.part` file, the
checksum and the atomic rename are those of editlab.data.download; gdown is only the transport (it follows
Drive's confirmation page for large files).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editlab.data.download import DownloadConfig, part_path, publish
from editlab.errors import ConfigError, EditlabError
from editlab.layout import CAO_FILES

log = logging.getLogger("editlab.gdrive")

# The folder the MEND README links ("Data: ... this Google Drive link"); MEND issue #16 (2025-04) reports
# that the link stopped working for some users: a failed listing names this folder and the keys to set.
MEND_FOLDER_ID = "1jAqBE45jEKR-5pMkwxlVQ0V8eKxqWbxA"
DRIVE_URL = "https://drive.google.com/uc?id={id}"


@dataclass(frozen=True)
class CaoDownloadConfig:
    """config section data.cao.download."""

    url: str = DRIVE_URL
    folder_id: str | None = MEND_FOLDER_ID
    ids: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> CaoDownloadConfig:
        section = dict(section or {})
        unknown = set(section) - {"url", "folder_id", "ids"}
        if unknown:
            raise ConfigError(f"config key 'data.cao.download': unknown key(s) {sorted(unknown)}; "
                              "expected url, folder_id, ids")
        ids = dict(section.get("ids") or {})
        bad = set(ids) - set(CAO_FILES)
        if bad:
            raise ConfigError(f"config key 'data.cao.download.ids': unknown file key(s) {sorted(bad)}; "
                              f"expected {sorted(CAO_FILES)}")
        url = str(section.get("url") or DRIVE_URL)
        if "{id}" not in url:
            raise ConfigError(f"config key 'data.cao.download.url': {url!r} has no '{{id}}' placeholder")
        return cls(url=url, folder_id=section.get("folder_id", MEND_FOLDER_ID), ids=ids)


def _is_transient(exc: BaseException) -> bool:
    import requests
    from gdown.exceptions import DownloadError, FileURLRetrievalError

    if isinstance(exc, FileURLRetrievalError):   # Drive refused the file (permission, quota page): not a blip
        return False
    if isinstance(exc, requests.HTTPError):
        code = exc.response.status_code if exc.response is not None else 0
        return code in (408, 429) or code >= 500
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                            DownloadError, ConnectionError, TimeoutError))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resolve_id(key: str, config: CaoDownloadConfig) -> str:
    """The Drive file id of release file `key`: the pinned one, else found by name in the folder listing."""
    pinned = config.ids.get(key)
    if pinned:
        return str(pinned)
    name = CAO_FILES[key][1]
    if not config.folder_id:
        raise ConfigError(f"config key 'data.cao.download.ids.{key}': not set and no data.cao.download.folder_id "
                          f"to find {name} in")
    import gdown

    try:
        listing = gdown.download_folder(id=config.folder_id, skip_download=True, quiet=True, use_cookies=False)
    except Exception as exc:  # noqa: BLE001 - gdown raises many kinds; the user needs one line
        raise EditlabError(f"cannot list the Drive folder {config.folder_id} (data.cao.download.folder_id) to find "
                           f"{name}: {_first_line(exc)}; pin data.cao.download.ids.{key} or set data.cao.path "
                           "to a local copy") from None
    hits = [entry for entry in listing or [] if Path(entry.path).name == name]
    if len(hits) != 1:
        names = sorted(Path(e.path).name for e in listing or [])
        raise EditlabError(f"Drive folder {config.folder_id}: {len(hits)} files named {name} (it lists "
                           f"{', '.join(names[:20]) or 'nothing'}); pin data.cao.download.ids.{key}")
    log.info("resolved %s to Drive file id %s (folder %s); pin it as data.cao.download.ids.%s", name, hits[0].id,
             config.folder_id, key)
    return str(hits[0].id)


def gdown_download(url: str, dest: str | os.PathLike[str], sha256: str | None = None,
                   config: DownloadConfig | None = None) -> str:
    """Fetch `url` with gdown into `<dest>.part` (retried with backoff, resumed by gdown), verify, rename;
    return the SHA-256. A checksum mismatch writes nothing."""
    import gdown

    config = config or DownloadConfig()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    for attempt in range(config.retries + 1):
        try:
            # resume=True: gdown continues its own partial file, and a complete `part` (a run killed before
            # the rename) is kept as is; the checksum below decides whether it is the right file.
            gdown.download(url=url, output=str(part), quiet=True, use_cookies=False, resume=True,
                           timeout=config.timeout_s)
            break
        except Exception as exc:  # noqa: BLE001 - classified right below
            if not _is_transient(exc):
                raise EditlabError(f"download of {url} failed: {_first_line(exc)}") from None
            if attempt == config.retries:
                raise EditlabError(f"download of {url} failed after {attempt + 1} attempts ({_first_line(exc)}); "
                                   "a rerun resumes") from None
            wait = config.backoff_s * 2**attempt
            log.warning("download of %s failed (%s); retry %d/%d in %.1f s", url, _first_line(exc), attempt + 1,
                        config.retries, wait)
            time.sleep(wait)
    return publish(part, dest, url, sha256)


def download_release_file(key: str, dest: str | os.PathLike[str], data: Mapping[str, Any]) -> dict[str, Any]:
    """Download release file `key` (a CAO_FILES key) as the `data` config says; return what was fetched
    (name, Drive id, URL, sha256, bytes), for the log and the sidecar next to the file."""
    if key not in CAO_FILES:
        raise ConfigError(f"unknown Cao release file key {key!r}; expected {sorted(CAO_FILES)}")
    cao = data.get("cao") or {}
    config = CaoDownloadConfig.from_config(cao.get("download"))
    file_id = resolve_id(key, config)
    url = config.url.format(id=file_id)
    sha256 = (cao.get("sha256") or {}).get(key)
    actual = gdown_download(url, dest, sha256, DownloadConfig.from_config(data.get("download")))
    return {"key": key, "name": CAO_FILES[key][1], "drive_id": file_id, "folder_id": config.folder_id, "url": url,
            "sha256": actual, "sha256_pinned": bool(sha256), "bytes": Path(dest).stat().st_size}


def download_settings(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The part of the `data` config that the download of release file `key` reads (its id and hash, the
    URL template, folder and transport settings): the rule's params, so that pinning another file reruns
    nothing."""
    cao = data.get("cao") or {}
    section = dict(cao.get("download") or {})
    ids = section.get("ids") or {}
    section["ids"] = {key: ids[key]} if key in ids else {}
    return {"cao": {"download": section, "sha256": {key: (cao.get("sha256") or {}).get(key)}},
            "download": dict(data.get("download") or {})}
