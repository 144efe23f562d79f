"""Ingest: copy a complete landing drop into ``raw/`` with its content hash as the data version.

Conventions:
- A landing folder is picked up only once it holds a ``_SUCCESS`` marker, written by the source after
  its files are complete; a file still being written is therefore never read.
- ``raw/`` never loses data: each distinct file content of a date is kept under its hash; re-ingesting
  the same content is a no-op, and a new content becomes the date's current version, recorded.
- Labels that land with a day's drop are kept in ``labels/`` under the date they *arrived*, which is
  what makes training point-in-time correct (see :mod:`ml_lifecycle.ingest.labels`).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ml_lifecycle.contracts import IngestResult
from ml_lifecycle.exceptions import BadLandingFile, LandingInTheFuture, LandingNotReady, PartitionNotFound
from ml_lifecycle.ingest.labels import ingest_labels
from ml_lifecycle.ingest.reading import read_table, sha256_of
from ml_lifecycle.lake import SUCCESS_MARKER, Lake, as_ds
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd


def landing_ready(pipeline: str, lake: Lake, ds: str) -> bool:
    """Whether the day's landing drop is complete: the source writes ``_SUCCESS`` after its files."""
    return (lake.landing_dir(pipeline, as_ds(ds)) / SUCCESS_MARKER).is_file()


def ingest_landing(spec: PipelineSpec, lake: Lake, ds: str, *, today: date | None = None) -> IngestResult:
    ds = as_ds(ds)
    landing = lake.landing_dir(spec.name, ds)
    today = today or datetime.now(UTC).date()
    if date.fromisoformat(ds) > today + timedelta(days=1):  # a day of slack for sources in other time zones
        raise LandingInTheFuture(
            f"landing drop for {spec.name} ds={ds} is dated after today ({today.isoformat()}): refusing to "
            f"ingest it; its files stay in {lake.location(landing)}"
        )
    if not (landing / SUCCESS_MARKER).is_file():
        raise LandingNotReady(
            f"landing drop for {spec.name} ds={ds} is not complete (no {SUCCESS_MARKER}): {lake.location(landing)}")
    features_file = landing / spec.source.features_file
    if not features_file.is_file():
        raise LandingNotReady(
            f"landing drop for {spec.name} ds={ds} has no {spec.source.features_file}: {lake.location(landing)}")

    result = _ingest_features(spec, lake, ds, features_file)
    labels_file = landing / spec.source.labels_file
    label_rows = ingest_labels(spec, lake, ds, labels_file) if labels_file.is_file() else 0
    return cast(IngestResult, {**result, "label_rows": label_rows})


def _ingest_features(spec: PipelineSpec, lake: Lake, ds: str, source: Path) -> dict[str, Any]:
    version = sha256_of(source)
    try:
        manifest = lake.partition_metadata("raw", spec.name, ds)
    except PartitionNotFound:
        manifest = {"versions": []}
    current = manifest.get("current")
    if current and current["data_version"] == version:
        if current.get("problem"):  # the same bytes fail the same way
            raise BadLandingFile(current["problem"])
        return {"status": "unchanged", "ds": ds, **_summary(current, lake.partition_dir("raw", spec.name, ds))}

    problem: BadLandingFile | None = None
    try:
        rows: int | None = len(read_table(spec, source))
    except BadLandingFile as exc:
        problem, rows = exc, None
    entry = {
        "data_version": version,
        "file": f"{version[:16]}{''.join(source.suffixes[-2:])}",
        "source_path": lake.location(source),
        "size_bytes": source.stat().st_size,
        "rows": rows,
        "arrived_at": datetime.fromtimestamp(source.stat().st_mtime, UTC).isoformat(),
        "ingested_at": datetime.now(UTC).isoformat(),
    }
    if problem is not None:
        entry["problem"] = str(problem)
    previous_dir = lake.partition_dir("raw", spec.name, ds)

    versions: list[dict[str, Any]] = list(manifest["versions"])

    def write(staging: Path) -> dict[str, Any]:
        for old in versions:
            _link_or_copy(previous_dir / old["file"], staging / old["file"])
        target = staging / str(entry["file"])
        # A re-delivered older content already sits here as a hard link to the published file: copying
        # onto it would truncate and rewrite the live raw file in place. Replace the link instead.
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return {"current": entry, "versions": [*versions, entry]}

    final = lake.publish_partition("raw", spec.name, ds, write)
    if problem is not None:
        raise BadLandingFile(f"{problem} (kept as {lake.location(final / str(entry['file']))})") from problem
    status = "new_version" if current else "ingested"
    return {"status": status, "ds": ds, "replaced_version": current["data_version"] if current else None,
            **_summary(entry, final)}


def _summary(entry: dict[str, Any], directory: Path) -> dict[str, Any]:
    return {"data_version": entry["data_version"], "rows": entry["rows"], "raw_path": str(directory / entry["file"])}


def read_raw_features(spec: PipelineSpec, lake: Lake, ds: str) -> tuple[pd.DataFrame, str]:
    """The current raw version of a date and its data version."""
    manifest = lake.partition_metadata("raw", spec.name, ds)
    current = manifest["current"]
    frame = read_table(spec, lake.partition_dir("raw", spec.name, ds) / current["file"])
    return frame, current["data_version"]


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
