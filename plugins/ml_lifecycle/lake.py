"""The data lake's layout and its one write rule: a partition becomes visible only when complete.

Layout (DESIGN.md): ``landing/<pipeline>/<ds>/`` is where sources drop files;
``<zone>/<pipeline>/ds=<ds>/`` holds everything we write. A partition is written into a hidden
temporary folder, gets a ``_SUCCESS`` marker with its metadata, and is then renamed into place;
re-writing a date swaps the whole folder, so readers see the old partition or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ml_lifecycle.settings import lake_root

SUCCESS_MARKER = "_SUCCESS"
ZONES = ("raw", "quarantine", "validated", "labels", "predictions", "shadow", "reports", "training")


class PartitionNotFound(FileNotFoundError):
    """A partition that a step needs has not been published (or was never complete)."""


def as_ds(value: str | date) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    date.fromisoformat(text)  # refuses anything that is not YYYY-MM-DD
    return text


class Lake:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else lake_root()

    # ---- locations -------------------------------------------------------------------------
    def landing_dir(self, pipeline: str, ds: str | date) -> Path:
        return self.root / "landing" / pipeline / as_ds(ds)

    def zone_dir(self, zone: str, pipeline: str) -> Path:
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
        return self.root / zone / pipeline

    def partition_dir(self, zone: str, pipeline: str, ds: str | date) -> Path:
        return self.zone_dir(zone, pipeline) / f"ds={as_ds(ds)}"

    def report_dir(self, pipeline: str, kind: str, ds: str | date) -> Path:
        return self.zone_dir("reports", pipeline) / kind / f"ds={as_ds(ds)}"

    # ---- reading ---------------------------------------------------------------------------
    @staticmethod
    def is_complete(directory: Path) -> bool:
        return (directory / SUCCESS_MARKER).is_file()

    def partitions(self, zone: str, pipeline: str) -> list[str]:
        """Dates of the complete partitions in a zone, oldest first."""
        base = self.zone_dir(zone, pipeline)
        if not base.is_dir():
            return []
        found = [p.name[3:] for p in base.iterdir() if p.name.startswith("ds=") and self.is_complete(p)]
        return sorted(found)

    def require_partition(self, zone: str, pipeline: str, ds: str | date) -> Path:
        directory = self.partition_dir(zone, pipeline, ds)
        if not self.is_complete(directory):
            raise PartitionNotFound(f"{zone} partition {pipeline} ds={as_ds(ds)} is not published: {directory}")
        return directory

    def partition_metadata(self, zone: str, pipeline: str, ds: str | date) -> dict[str, Any]:
        directory = self.require_partition(zone, pipeline, ds)
        text = (directory / SUCCESS_MARKER).read_text()
        return json.loads(text) if text.strip() else {}

    # ---- writing ---------------------------------------------------------------------------
    def publish_partition(
        self,
        zone: str,
        pipeline: str,
        ds: str | date,
        write: Callable[[Path], dict[str, Any] | None],
    ) -> Path:
        """Write a partition through ``write(tmp_dir)`` and make it visible atomically.

        ``write`` fills a fresh temporary folder and may return metadata for the ``_SUCCESS`` marker.
        If it raises, the temporary folder is removed and the previous partition stays as it was.
        """
        return publish_folder(self.partition_dir(zone, pipeline, ds), write)

    def publish_report(
        self, pipeline: str, kind: str, ds: str | date, write: Callable[[Path], dict[str, Any] | None]
    ) -> Path:
        """Like :meth:`publish_partition`, for ``reports/<pipeline>/<kind>/ds=<ds>/``."""
        return publish_folder(self.report_dir(pipeline, kind, ds), write)

    def reports(self, pipeline: str, kind: str) -> list[str]:
        """Dates of the complete reports of a kind, oldest first."""
        base = self.zone_dir("reports", pipeline) / kind
        if not base.is_dir():
            return []
        return sorted(p.name[3:] for p in base.iterdir() if p.name.startswith("ds=") and self.is_complete(p))


def publish_folder(final: Path, write: Callable[[Path], dict[str, Any] | None]) -> Path:
    """Fill a staging folder through ``write`` and swap it into ``final`` with a ``_SUCCESS`` marker."""
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
