"""Object storage's generations: how a partition on S3 (no rename) is published and resolved atomically.

A write goes under a fresh prefix ``<zone>/<pipeline>/ds=<ds>/_gen=<generation>/``; the partition's
``_SUCCESS`` marker is written last, in one small PUT, naming the generation, its files and the metadata.
Readers resolve through the marker into a local cache of complete generations (never modified afterwards).
:class:`GenerationStore` is the part of :class:`~ml_lifecycle.lake.Lake` that does this.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_lifecycle.exceptions import LakeStorageError
from ml_lifecycle.lake.files import Writer, _staging_dir
from ml_lifecycle.lake.layout import GENERATION_PREFIX, MARKER_FORMAT, SUCCESS_MARKER
from ml_lifecycle.lake.store import (
    ORPHAN_GRACE_SECONDS,
    _dumps,
    _listing_key,
    _mtime,
    _ObjectStore,
    _safe_name,
    _set_mtimes,
    _sweep_cache,
)

log = logging.getLogger(__name__)

RESOLVE_ATTEMPTS = 5
_SAFE_GENERATION = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class GenerationStore:
    """Resolving and publishing generations on the lake's object store (a mixin of ``Lake``)."""

    root: Path
    uri: str
    _store: _ObjectStore | None

    @staticmethod
    def is_complete(directory: Path) -> bool:
        return (directory / SUCCESS_MARKER).is_file()

    # ---- object storage --------------------------------------------------------------------
    def _key(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            raise ValueError(f"{path} is not a location of the lake {self.uri} (local root {self.root})") from None

    def _unresolved(self, path: Path) -> Path:
        """The partition folder of a path that ``partition_dir``/``report_dir`` resolved to a generation."""
        parts = path.relative_to(self.root).parts
        cut = next((i for i, p in enumerate(parts) if p.startswith(GENERATION_PREFIX)), len(parts))
        return self.root.joinpath(*parts[:cut])

    def _writable(self, path: Path) -> Path:
        if self._store is not None and any(p.startswith(GENERATION_PREFIX) for p in path.relative_to(self.root).parts):
            raise ValueError(f"{path} is inside a published generation of {self.uri}, which never changes; "
                             "publish a new one instead")
        return path

    def _marker(self, key: str) -> dict[str, Any] | None:
        assert self._store is not None
        marker_key = f"{key}/{SUCCESS_MARKER}"
        raw = self._store.read_json(marker_key)
        if raw is None:
            return None
        if not (isinstance(raw, dict) and raw.get("format") == MARKER_FORMAT
                and _SAFE_GENERATION.match(str(raw.get("generation", ""))) and isinstance(raw.get("files"), list)):
            raise LakeStorageError(f"lake root {self.uri}: {marker_key} is not a partition marker of this lake "
                                   f"(expected format {MARKER_FORMAT!r} naming a generation and its files)")
        return raw

    def _resolve(self, path: Path) -> Path:
        """The local folder of the partition at ``path``: itself on a local root, else its published copy."""
        if self._store is None:
            return path
        key = self._key(path)
        for _ in range(RESOLVE_ATTEMPTS):
            marker = self._marker(key)
            if marker is None:
                return path  # holds no _SUCCESS: not complete
            cache = path / f"{GENERATION_PREFIX}{marker['generation']}"
            if not self.is_complete(cache):
                files = [(_safe_name(f["path"]), int(f["size"])) for f in marker["files"]]
                try:
                    self._download(f"{key}/{cache.name}", files, cache, marker=_dumps(marker.get("metadata") or {}))
                except FileNotFoundError:
                    continue  # superseded (and deleted) while we downloaded it: resolve again
            _sweep_cache(path, keep=cache.name)
            return cache
        raise LakeStorageError(f"lake root {self.uri}: {key} was replaced {RESOLVE_ATTEMPTS} times while being read")

    def _resolve_landing(self, folder: Path) -> Path:
        assert self._store is not None
        listing = self._store.listing(self._key(folder), detail=True)
        if SUCCESS_MARKER not in listing:
            return folder  # holds no _SUCCESS: not complete
        cache = folder / f"{GENERATION_PREFIX}{_listing_key(listing)}"
        if not self.is_complete(cache):
            files = [(_safe_name(name), int(info.get("size") or 0)) for name, info in sorted(listing.items())]
            self._download(self._key(folder), files, cache, mtimes=listing)
        _sweep_cache(folder, keep=cache.name)
        return cache

    def _download(self, prefix: str, files: list[tuple[str, int]], cache: Path, *, marker: bytes | None = None,
                  mtimes: dict[str, dict[str, Any]] | None = None) -> None:
        assert self._store is not None
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = cache.parent / f".fetch-{cache.name}-{uuid.uuid4().hex}"
        try:
            targets = [staging / name for name, _ in files]
            for target in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
            self._store.get_files([f"{prefix}/{name}" for name, _ in files], targets)
            for (name, size), target in zip(files, targets, strict=True):
                if target.stat().st_size != size:
                    raise LakeStorageError(f"lake root {self.uri}: {prefix}/{name} has {target.stat().st_size} "
                                           f"bytes, its marker says {size}")
            if marker is not None:
                (staging / SUCCESS_MARKER).write_bytes(marker)
            if mtimes is not None:
                _set_mtimes(staging, mtimes)
            _move_into_cache(staging, cache)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _publish_generation(self, final: Path, write: Writer) -> Path:
        assert self._store is not None
        store, key = self._store, self._key(final)
        with _staging_dir(final) as staging:
            metadata = write(staging) or {}
            files = sorted(p for p in staging.rglob("*") if p.is_file())
            names = [p.relative_to(staging).as_posix() for p in files]
            generation = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
            prefix = f"{key}/{GENERATION_PREFIX}{generation}"
            previous = self._marker(key)
            marker = {"format": MARKER_FORMAT, "generation": generation, "metadata": metadata,
                      "files": [{"path": n, "size": p.stat().st_size} for n, p in zip(names, files, strict=True)],
                      "published_at": datetime.now(UTC).isoformat()}
            try:
                store.put_files(files, [f"{prefix}/{n}" for n in names])
                store.put_bytes(f"{key}/{SUCCESS_MARKER}", _dumps(marker))  # the moment it becomes visible
            except BaseException:
                _forget_generation(self, key, generation, prefix)
                raise
            (staging / SUCCESS_MARKER).write_bytes(_dumps(metadata))  # the local layout's marker
            cache = final / f"{GENERATION_PREFIX}{generation}"
            _move_into_cache(staging, cache)
        self._drop_superseded(key, generation, previous)
        _sweep_cache(final, keep=cache.name)
        return cache

    def _drop_superseded(self, key: str, generation: str, previous: dict[str, Any] | None) -> None:
        """Delete the generation the marker named before, and unmarked generations of crashed writers."""
        assert self._store is not None
        try:
            listing = self._store.listing(key, detail=True)
            newest: dict[str, float] = {}
            for name, info in listing.items():
                head = name.split("/", 1)[0]
                if head.startswith(GENERATION_PREFIX) and head != f"{GENERATION_PREFIX}{generation}":
                    newest[head] = max(newest.get(head, 0.0), _mtime(info))
            replaced = f"{GENERATION_PREFIX}{previous['generation']}" if previous else None
            cutoff = time.time() - ORPHAN_GRACE_SECONDS
            doomed = {head for head, when in newest.items() if head == replaced or when < cutoff}
            self._store.remove([f"{key}/{name}" for name in listing if name.split("/", 1)[0] in doomed])
        except LakeStorageError as exc:  # the new generation is published; leftovers are only wasted space
            log.warning("could not delete superseded generations of %s/%s: %s", self.uri, key, exc)


def _forget_generation(lake: GenerationStore, key: str, generation: str, prefix: str) -> None:
    """After a failed publish, delete what it uploaded unless its marker made it (an ambiguous failure)."""
    assert lake._store is not None
    try:
        current = lake._marker(key)
        if current is None or current.get("generation") != generation:
            lake._store.remove_tree(prefix)
    except Exception as exc:  # noqa: BLE001 - the original error is the one to raise
        log.warning("could not clean up the failed generation %s/%s: %s", lake.uri, prefix, exc)


def _move_into_cache(staging: Path, cache: Path) -> None:
    """Rename a complete folder into its immutable cache place; another process may have got there first."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, cache)
    except OSError:
        if not GenerationStore.is_complete(cache):
            raise
