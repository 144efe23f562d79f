"""Object storage behind the lake: the few fsspec calls it needs, and the cache of complete generations.

Errors name the lake root (:class:`~ml_lifecycle.exceptions.LakeStorageError`); s3fs is imported on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ml_lifecycle.exceptions import LakeStorageError
from ml_lifecycle.lake.layout import GENERATION_PREFIX
from ml_lifecycle.settings import lake_storage_options

log = logging.getLogger(__name__)

CACHE_GRACE_SECONDS = 300.0  # a superseded generation in the local cache outlives its successor this long

ORPHAN_GRACE_SECONDS = 3600.0  # an unmarked remote generation this old belongs to a crashed writer


class _ObjectStore:
    """The few fsspec calls the lake needs, with errors that name the lake root; opened on first use."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._fs: Any = None
        self._base = ""

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
            try:
                options.update(lake_storage_options())
                fs, base = fsspec.core.url_to_fs(self.uri, **options)
            except Exception as exc:
                raise LakeStorageError(f"lake root {self.uri}: cannot open its filesystem: "
                                       f"{type(exc).__name__}: {exc}") from exc
            self._base = str(base).rstrip("/")
            self._check_reachable(fs)
            self._fs = fs
        return self._fs

    def _check_reachable(self, fs: Any) -> None:
        # On a bucket store (root_marker ""), the bucket must exist: a missing one would otherwise read as
        # "nothing published yet". A connection, credential or permission error surfaces here, once.
        anchor = self._base.split("/", 1)[0] if getattr(fs, "root_marker", "/") == "" else None
        if anchor is None:
            return
        try:
            fs.info(anchor)
        except FileNotFoundError as exc:
            raise LakeStorageError(f"lake root {self.uri}: bucket {anchor!r} does not exist") from exc
        except Exception as exc:
            raise LakeStorageError(f"lake root {self.uri}: cannot reach the store: {type(exc).__name__}: {exc}") from exc

    def _path(self, key: str) -> str:
        return f"{self._base}/{key}" if key else self._base

    @contextmanager
    def _errors(self, action: str, keys: Sequence[str]) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, LakeStorageError):
            raise
        except Exception as exc:
            what = keys[0] + (f" (and {len(keys) - 1} more)" if len(keys) > 1 else "") if keys else "/"
            raise LakeStorageError(f"lake root {self.uri}: {action} {what} failed: {type(exc).__name__}: {exc}") from exc

    def read_json(self, key: str) -> Any:
        fs = self.fs
        with self._errors("reading", [key]):
            try:
                data = fs.cat_file(self._path(key))
            except FileNotFoundError:
                return None
        try:
            return json.loads(data) if data.strip() else {}
        except ValueError as exc:
            raise LakeStorageError(f"lake root {self.uri}: {key} is not JSON: {exc}") from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        fs = self.fs
        with self._errors("writing", [key]):
            fs.pipe_file(self._path(key), data)

    def put_files(self, files: Sequence[Path], keys: Sequence[str]) -> None:
        if files:
            fs = self.fs
            with self._errors("uploading", keys):
                fs.put([str(f) for f in files], [self._path(k) for k in keys])

    def get_files(self, keys: Sequence[str], targets: Sequence[Path]) -> None:
        """Download; raises FileNotFoundError when an object is missing."""
        if keys:
            fs = self.fs
            with self._errors("downloading", keys):
                fs.get([self._path(k) for k in keys], [str(t) for t in targets])

    def listing(self, key: str, *, detail: bool = False) -> dict[str, dict[str, Any]]:
        """Every object under ``key/``, by its name relative to it (with its info when ``detail``)."""
        fs = self.fs
        base = self._path(key)
        with self._errors("listing", [key]):
            try:
                found = fs.find(base, detail=True)
            except FileNotFoundError:
                return {}
        out = {}
        for name, info in found.items():
            name = str(name)
            if name.startswith(base + "/"):
                out[name[len(base) + 1:]] = dict(info) if detail else {}
        return out

    def remove(self, keys: Sequence[str]) -> None:
        if keys:
            fs = self.fs
            with self._errors("deleting", keys):
                try:
                    fs.rm([self._path(k) for k in keys])
                except FileNotFoundError:
                    pass

    def remove_tree(self, key: str) -> None:
        self.remove([f"{key}/{name}" for name in self.listing(key)])


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, indent=2, sort_keys=True, default=str).encode()


def _safe_name(name: str) -> str:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts:
        raise LakeStorageError(f"refusing the lake file name {name!r}")
    return name


def _mtime(info: dict[str, Any]) -> float:
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or info.get("updated")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()


def _listing_key(listing: dict[str, dict[str, Any]]) -> str:
    entries = sorted((name, info.get("size"), str(info.get("ETag") or info.get("etag") or _mtime(info)))
                     for name, info in listing.items())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]


def _set_mtimes(folder: Path, listing: dict[str, dict[str, Any]]) -> None:
    """Give local copies their object's modification time (ingest records it as the arrival time)."""
    for name, info in listing.items():
        target = folder / name
        if target.is_file():
            when = _mtime(info)
            os.utime(target, (when, when))


def _sweep_cache(folder: Path, *, keep: str) -> None:
    """Delete cached generations of ``folder`` other than ``keep`` once they are older than the grace period."""
    cutoff = time.time() - CACHE_GRACE_SECONDS
    try:
        stale = [p for p in folder.iterdir()
                 if p.name.startswith(GENERATION_PREFIX) and p.name != keep and p.stat().st_mtime < cutoff]
    except OSError:
        return
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
