"""Local file primitives of the lake: atomic JSON/text writes, the staging-and-swap publish of a folder,
content fingerprints and date checks. Nothing here knows about zones or object storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ml_lifecycle.lake.layout import INPUTS_KEY, SUCCESS_MARKER
from ml_lifecycle.settings import lake_storage_options

Writer = Callable[[Path], dict[str, Any] | None]


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
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text (never the locale's encoding: reports hold non-ASCII) through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
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
