"""The data lake's layout and its one write rule: a partition becomes visible only when complete.

Layout (DESIGN.md): ``landing/<pipeline>/<ds>/`` is where sources drop files;
``<zone>/<pipeline>/ds=<ds>/`` holds everything we write. A partition is written into a hidden
temporary folder, gets a ``_SUCCESS`` marker with its metadata, and is then renamed into place;
re-writing a date swaps the whole folder, so readers see the old partition or the new one, never a mix.
A writer that passes ``inputs`` (a :func:`fingerprint_of` what it computed from) makes re-runs no-ops:
the same inputs leave the published partition exactly as it is, byte for byte.

The root is a local folder (the default, ``ML_LIFECYCLE_LAKE_ROOT`` or ``Lake(root)``) or any fsspec URI
(``s3://bucket/prefix``). On a local root everything above holds literally. On object storage, which has
no rename, the same guarantees come from generations:

- A write goes under a fresh prefix ``<zone>/<pipeline>/ds=<ds>/_gen=<generation>/``; the partition's
  ``_SUCCESS`` marker is written last, in one small PUT (atomic on S3), and names the generation, its files
  (path and size) and the metadata: ``{"format": "ml-lifecycle/partition-v1", "generation": ...,
  "files": [...], "metadata": {...}}``. Readers resolve a partition through its marker only, so they see
  the old generation or the new one, never a mix and never a half-written one. The superseded
  generation is deleted once the marker has moved (generations of crashed writers after
  ``ORPHAN_GRACE_SECONDS``); a reader whose generation vanished while it downloaded resolves again.
- The core keeps doing local file I/O. ``partition_dir`` / ``require_partition`` / ``report_dir`` /
  ``landing_dir`` return a local folder of the lake cache (``ML_LIFECYCLE_LAKE_CACHE``, by default
  ``<local home>/lake-cache/<root>-<hash>/``, the same layout as the lake) into which the complete
  generation was downloaded once: ``.../ds=<ds>/_gen=<generation>/``, never modified afterwards (a
  partition that is not published resolves to ``.../ds=<ds>/``, which holds no ``_SUCCESS``). Writes fill
  the same local staging folder as on a local root; the publish uploads it, then writes the marker.
  ``partitions``/``reports`` list markers; ``partition_metadata`` reads the marker without downloading.
- Landing drops are written by the sources without generations (files, then ``_SUCCESS``); they are
  read through the same cache, keyed by their listing (names, sizes, ETags). ``publish_landing`` lands
  a drop the same way (the simulator uses it).
- Files outside partitions (validation and gate reports, model cards) go through :meth:`Lake.write_json`
  / :meth:`Lake.write_text` (one PUT each); the scoring shards through :meth:`Lake.commit_file`,
  :meth:`Lake.fetch_file` and :meth:`Lake.remove_tree`. Pass :attr:`Lake.uri` to other processes.
- Credentials and endpoint: the standard AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3`` for an
  S3-compatible server: botocore resolves them, and s3fs 2026.9 leaves the endpoint to botocore when it
  is not given). ``ML_LIFECYCLE_LAKE_STORAGE_OPTIONS`` optionally holds a JSON object of fsspec storage
  options passed to the filesystem (``{"endpoint_url": "http://minio:9000"}``, ``{"anon": true}``, or a
  GCS/Azure backend's options). A bad URI, a missing bucket or an unreachable store raises
  :class:`LakeStorageError` naming the lake root. s3fs is imported on first use only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ml_lifecycle.settings import lake_cache_dir, lake_location, lake_storage_options

log = logging.getLogger(__name__)

SUCCESS_MARKER = "_SUCCESS"
INPUTS_KEY = "inputs_fingerprint"  # in a marker's metadata: what the content was computed from
ZONES = ("raw", "quarantine", "validated", "labels", "predictions", "shadow", "reports", "training")
GENERATION_PREFIX = "_gen="
MARKER_FORMAT = "ml-lifecycle/partition-v1"
CACHE_GRACE_SECONDS = 300.0  # a superseded generation in the local cache outlives its successor this long
ORPHAN_GRACE_SECONDS = 3600.0  # an unmarked remote generation this old belongs to a crashed writer
RESOLVE_ATTEMPTS = 5
_SAFE_GENERATION = re.compile(r"^[A-Za-z0-9._-]{1,100}$")

Writer = Callable[[Path], dict[str, Any] | None]


class PartitionNotFound(FileNotFoundError):
    """A partition that a step needs has not been published (or was never complete)."""


class LakeStorageError(RuntimeError):
    """The lake's object store cannot be opened or reached, or refused an operation; names the lake root."""


def as_ds(value: str | date) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    date.fromisoformat(text)  # refuses anything that is not YYYY-MM-DD
    return text


def is_object_storage(root: str | Path) -> bool:
    """Whether a lake root is a URI of a remote filesystem (``s3://...``) rather than a local folder."""
    if isinstance(root, Path):
        return False
    scheme, sep, _ = root.partition("://")
    return bool(sep) and scheme.lower() not in ("file", "local")


class Lake:
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
    @staticmethod
    def is_complete(directory: Path) -> bool:
        return (directory / SUCCESS_MARKER).is_file()

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


def _forget_generation(lake: Lake, key: str, generation: str, prefix: str) -> None:
    """After a failed publish, delete what it uploaded unless its marker made it (an ambiguous failure)."""
    assert lake._store is not None
    try:
        current = lake._marker(key)
        if current is None or current.get("generation") != generation:
            lake._store.remove_tree(prefix)
    except Exception as exc:  # noqa: BLE001 - the original error is the one to raise
        log.warning("could not clean up the failed generation %s/%s: %s", lake.uri, prefix, exc)


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


def _move_into_cache(staging: Path, cache: Path) -> None:
    """Rename a complete folder into its immutable cache place; another process may have got there first."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, cache)
    except OSError:
        if not Lake.is_complete(cache):
            raise


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


def fingerprint_of(inputs: Any) -> str:
    """A stable digest of what an output depends on (data versions, model version, spec hash, ...)."""
    canonical = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _recording_inputs(write: Writer, inputs: str) -> Writer:
    def recorded(staging: Path) -> dict[str, Any]:
        return {**(write(staging) or {}), INPUTS_KEY: inputs}

    return recorded


def storage_options_for(path: str | Path) -> dict[str, Any] | None:
    """fsspec storage options (pandas' ``storage_options``) to read a lake location that may be a URI."""
    if not is_object_storage(path):
        return None
    return lake_storage_options() or None


def publish_folder(final: Path, write: Callable[[Path], dict[str, Any] | None]) -> Path:
    """Fill a staging folder through ``write`` and swap it into ``final`` with a ``_SUCCESS`` marker.

    A local folder only: for a lake that may be on object storage use :meth:`Lake.publish`.
    """
    with _staging_dir(final) as staging:
        metadata = write(staging) or {}
        write_json(staging / SUCCESS_MARKER, metadata)
        _swap_into_place(staging, final)
    return final


def write_json(path: Path, payload: Any) -> Path:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


@contextmanager
def _staging_dir(final: Path) -> Iterator[Path]:
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".staging-{final.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _swap_into_place(staging: Path, final: Path) -> None:
    # A directory cannot be replaced atomically while it has content, so the old one is moved aside
    # first; the window in between shows no partition at all, never a partial one.
    retired = None
    if final.exists():
        retired = final.parent / f".retired-{final.name}-{uuid.uuid4().hex}"
        os.replace(final, retired)
    os.replace(staging, final)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
