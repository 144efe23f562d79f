"""The data lake's one write rule: a partition becomes visible only when complete (see the package docs).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from ml_lifecycle.exceptions import PartitionNotFound
from ml_lifecycle.lake.files import (
    Writer,
    _recording_inputs,
    _staging_dir,
    as_ds,
    is_object_storage,
    publish_folder,
    write_json,
    write_text,
)
from ml_lifecycle.lake.generations import GenerationStore, _move_into_cache
from ml_lifecycle.lake.layout import GENERATION_PREFIX, INPUTS_KEY, SUCCESS_MARKER, ZONES
from ml_lifecycle.lake.store import (
    _dumps,
    _listing_key,
    _ObjectStore,
    _safe_name,
    _set_mtimes,
)
from ml_lifecycle.settings import lake_cache_dir, lake_location

log = logging.getLogger(__name__)




class Lake(GenerationStore):
    """The lake at ``root`` (a folder or an fsspec URI; by default ``ML_LIFECYCLE_LAKE_ROOT``).

    ``root`` is always a local folder: the lake itself, or for object storage the lake's local cache.
    ``uri`` is the root as configured; ``Lake(lake.uri)`` opens the same lake in another process.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        configured: str | Path = root if root is not None else lake_location()
        self._store: _ObjectStore | None = None
        if is_object_storage(configured):
            self.uri = str(configured).rstrip("/")
            self.root = lake_cache_dir(self.uri)
            self._store = _ObjectStore(self.uri)
        else:
            text = str(configured)
            self.root = Path(text[len("file://"):] if text.startswith("file://") else configured)
            self.uri = str(self.root)

    def __repr__(self) -> str:
        return f"Lake({self.uri!r})"

    @property
    def remote(self) -> bool:
        """Whether the lake lives on object storage (and ``root`` is only its local cache)."""
        return self._store is not None

    # ---- locations -------------------------------------------------------------------------
    def landing_dir(self, pipeline: str, ds: str | date) -> Path:
        """The landing folder of a date; on object storage a local copy once its ``_SUCCESS`` exists."""
        folder = self.root / "landing" / pipeline / as_ds(ds)
        return folder if self._store is None else self._resolve_landing(folder)

    def zone_dir(self, zone: str, pipeline: str) -> Path:
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
        return self.root / zone / pipeline

    def partition_dir(self, zone: str, pipeline: str, ds: str | date) -> Path:
        """The folder of a partition (on object storage: the local copy of its published generation)."""
        return self._resolve(self._partition_path(zone, pipeline, ds))

    def report_dir(self, pipeline: str, kind: str, ds: str | date) -> Path:
        return self._resolve(self._report_path(pipeline, kind, ds))

    def _partition_path(self, zone: str, pipeline: str, ds: str | date) -> Path:
        return self.zone_dir(zone, pipeline) / f"ds={as_ds(ds)}"

    def _report_path(self, pipeline: str, kind: str, ds: str | date) -> Path:
        return self.zone_dir("reports", pipeline) / kind / f"ds={as_ds(ds)}"

    def location(self, path: Path) -> str:
        """Where a local lake path lives in the lake: the path itself, or its object's URI."""
        if self._store is None:
            return str(path)
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return str(path)
        if parts[:1] == ("landing",):  # a landing copy's generation is a cache key, not a folder of the lake
            parts = tuple(p for p in parts if not p.startswith(GENERATION_PREFIX))
        return "/".join((self.uri, *parts))

    # ---- reading ---------------------------------------------------------------------------
    def partitions(self, zone: str, pipeline: str) -> list[str]:
        """Dates of the complete partitions in a zone, oldest first."""
        return self._complete_dates(self.zone_dir(zone, pipeline))

    def require_partition(self, zone: str, pipeline: str, ds: str | date) -> Path:
        directory = self.partition_dir(zone, pipeline, ds)
        if not self.is_complete(directory):
            raise PartitionNotFound(
                f"{zone} partition {pipeline} ds={as_ds(ds)} is not published: {self.location(directory)}")
        return directory

    def partition_metadata(self, zone: str, pipeline: str, ds: str | date) -> dict[str, Any]:
        metadata = self.published_metadata(zone, pipeline, ds)
        if metadata is None:
            path = self._partition_path(zone, pipeline, ds)
            raise PartitionNotFound(
                f"{zone} partition {pipeline} ds={as_ds(ds)} is not published: {self.location(path)}")
        return metadata

    def published_metadata(self, zone: str, pipeline: str, ds: str | date) -> dict[str, Any] | None:
        """The ``_SUCCESS`` metadata of a published partition, or None: one marker read, no listing."""
        return self._metadata_at(self._partition_path(zone, pipeline, ds))

    def _metadata_at(self, final: Path) -> dict[str, Any] | None:
        if self._store is not None:  # the marker holds it: no download
            marker = self._marker(self._key(self._unresolved(final)))
            return None if marker is None else dict(marker.get("metadata") or {})
        try:
            text = (final / SUCCESS_MARKER).read_text()
        except FileNotFoundError:
            return None
        return json.loads(text) if text.strip() else {}

    def reports(self, pipeline: str, kind: str) -> list[str]:
        """Dates of the complete reports of a kind, oldest first."""
        return self._complete_dates(self.zone_dir("reports", pipeline) / kind)

    def _complete_dates(self, base: Path) -> list[str]:
        if self._store is None:
            if not base.is_dir():
                return []
            return sorted(p.name[3:] for p in base.iterdir() if p.name.startswith("ds=") and self.is_complete(p))
        found = set()
        for name in self._store.listing(self._key(base)):
            parts = name.split("/")
            if len(parts) == 2 and parts[0].startswith("ds=") and parts[1] == SUCCESS_MARKER:
                found.add(parts[0][3:])
        return sorted(found)

    # ---- writing ---------------------------------------------------------------------------
    def publish_partition(self, zone: str, pipeline: str, ds: str | date, write: Writer, *,
                          inputs: str | None = None) -> Path:
        """Write a partition through ``write(tmp_dir)`` and make it visible atomically.

        ``write`` fills a fresh temporary folder and may return metadata for the ``_SUCCESS`` marker.
        If it raises, the temporary folder is removed and the previous partition stays as it was.
        ``inputs`` (a :func:`fingerprint_of` what the content depends on) makes a re-run a no-op: when the
        published partition was written from the same inputs, ``write`` is not called and nothing changes.
        Returns the published folder (on object storage: its local copy).
        """
        return self.publish(self._partition_path(zone, pipeline, ds), write, inputs=inputs)

    def publish_report(self, pipeline: str, kind: str, ds: str | date, write: Writer, *,
                       inputs: str | None = None) -> Path:
        """Like :meth:`publish_partition`, for ``reports/<pipeline>/<kind>/ds=<ds>/``."""
        return self.publish(self._report_path(pipeline, kind, ds), write, inputs=inputs)

    def publish(self, final: Path, write: Writer, *, inputs: str | None = None) -> Path:
        """:func:`publish_folder` at a location of this lake (a path under ``root``)."""
        if inputs is not None:
            if (self._metadata_at(final) or {}).get(INPUTS_KEY) == inputs:
                return self._resolve(self._unresolved(final))
            write = _recording_inputs(write, inputs)
        if self._store is None:
            return publish_folder(final, write)
        return self._publish_generation(self._unresolved(final), write)

    def publish_landing(self, pipeline: str, ds: str | date, write: Writer) -> Path:
        """Land a drop the way a source does: files, then a ``_SUCCESS`` marker with ``write``'s metadata.

        On a local root ``write`` fills the landing folder itself (the marker is removed first: a re-landed
        folder is incomplete until re-marked); on object storage it fills a staging folder that is uploaded
        after the old marker and the files the new drop no longer has are deleted.
        """
        folder = self.root / "landing" / pipeline / as_ds(ds)
        if self._store is None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / SUCCESS_MARKER).unlink(missing_ok=True)
            metadata = write(folder) or {}
            write_json(folder / SUCCESS_MARKER, metadata)
            return folder
        store, key = self._store, self._key(folder)
        with _staging_dir(folder) as staging:
            metadata = write(staging) or {}
            (staging / SUCCESS_MARKER).unlink(missing_ok=True)
            files = sorted(p for p in staging.rglob("*") if p.is_file())
            names = [p.relative_to(staging).as_posix() for p in files]
            store.remove([f"{key}/{SUCCESS_MARKER}"])
            store.remove([f"{key}/{n}" for n in store.listing(key) if n not in names])
            store.put_files(files, [f"{key}/{n}" for n in names])
            marker = _dumps(metadata)
            store.put_bytes(f"{key}/{SUCCESS_MARKER}", marker)
            (staging / SUCCESS_MARKER).write_bytes(marker)
            listing = store.listing(key, detail=True)
            if set(listing) == {*names, SUCCESS_MARKER}:  # else another writer raced us: read it back later
                cache = folder / f"{GENERATION_PREFIX}{_listing_key(listing)}"
                _set_mtimes(staging, listing)
                _move_into_cache(staging, cache)
                return cache
        return self._resolve_landing(folder)

    def write_json(self, path: Path, payload: Any) -> Path:
        """:func:`write_json` to a file of this lake outside partitions (one PUT on object storage)."""
        return self.commit_file(write_json(self._writable(path), payload))

    def write_text(self, path: Path, text: str) -> Path:
        """:func:`write_text` to a file of this lake outside partitions (one PUT on object storage)."""
        return self.commit_file(write_text(self._writable(path), text))

    def commit_file(self, path: Path) -> Path:
        """Make a complete local file at a lake location durable in the lake (object storage: upload it)."""
        if self._store is not None:
            self._store.put_files([path], [self._key(self._writable(path))])
        return path

    def fetch_file(self, path: Path) -> Path:
        """The local copy of a file committed at a lake location; missing locally if missing in the lake."""
        if self._store is not None:
            key = self._key(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            try:
                self._store.get_files([key], [tmp])
                os.replace(tmp, path)
            except FileNotFoundError:
                path.unlink(missing_ok=True)
            finally:
                tmp.unlink(missing_ok=True)
        return path

    def list_files(self, folder: Path) -> list[Path]:
        """The files under a folder of the lake, at any depth, as lake paths (under ``root``), sorted.

        On object storage the objects are listed, nothing is downloaded (read one with :meth:`fetch_file`);
        under a partition or report that includes its ``_SUCCESS`` marker and ``_gen=`` objects. Hidden
        names (temporary and staging files) are left out; a missing folder has no files.
        """
        if self._store is None:
            if not folder.is_dir():
                return []
            found = [p for p in folder.rglob("*") if p.is_file()]
        else:
            found = [folder.joinpath(*PurePosixPath(_safe_name(name)).parts)
                     for name in self._store.listing(self._key(folder))]
        return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(folder).parts))

    def remove_tree(self, path: Path) -> None:
        """Delete a folder of the lake and everything under it (scratch space such as scoring shards)."""
        shutil.rmtree(path, ignore_errors=True)
        if self._store is not None:
            self._store.remove_tree(self._key(self._writable(path)))
