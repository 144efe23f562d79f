"""Ingest: copy a complete landing drop into ``raw/`` with its content hash as the data version.

Conventions:
- A landing folder is picked up only once it holds a ``_SUCCESS`` marker, written by the source after
  its files are complete; a file still being written is therefore never read.
- ``raw/`` never loses data: each distinct file content of a date is kept under its hash; re-ingesting
  the same content is a no-op, and a new content becomes the date's current version, recorded.
- Labels that land with a day's drop are kept in ``labels/`` under the date they *arrived*, which is
  what makes training point-in-time correct.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import SUCCESS_MARKER, Lake, PartitionNotFound, as_ds
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd


class LandingNotReady(FileNotFoundError):
    """The landing folder of a date is missing or not marked complete yet."""


class BadLabels(ValueError):
    """A labels file that cannot be used; the message names the problem and the file."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(spec: PipelineSpec, path: Path) -> pd.DataFrame:
    """Read a landed or raw file with the spec's format options; ids are always text."""
    import pandas as pd

    if spec.source.format == "parquet":
        frame = pd.read_parquet(path)
        frame[spec.id_column] = frame[spec.id_column].astype(str)
        if spec.event_date_column in frame.columns:
            # dates typed as dates in a Parquet source must still join with the text dates elsewhere
            dates = frame[spec.event_date_column]
            frame[spec.event_date_column] = pd.to_datetime(dates).dt.strftime("%Y-%m-%d").where(dates.notna())
        return frame
    return pd.read_csv(
        path,
        sep=spec.source.delimiter,
        encoding=spec.source.encoding,
        dtype={spec.id_column: str, spec.event_date_column: str},
    )


def ingest_landing(spec: PipelineSpec, lake: Lake, ds: str) -> dict[str, Any]:
    ds = as_ds(ds)
    landing = lake.landing_dir(spec.name, ds)
    if not (landing / SUCCESS_MARKER).is_file():
        raise LandingNotReady(f"landing drop for {spec.name} ds={ds} is not complete (no {SUCCESS_MARKER}): {landing}")
    features_file = landing / spec.source.features_file
    if not features_file.is_file():
        raise LandingNotReady(f"landing drop for {spec.name} ds={ds} has no {spec.source.features_file}: {landing}")

    result = _ingest_features(spec, lake, ds, features_file)
    labels_file = landing / spec.source.labels_file
    result["label_rows"] = _ingest_labels(spec, lake, ds, labels_file) if labels_file.is_file() else 0
    return result


def _ingest_features(spec: PipelineSpec, lake: Lake, ds: str, source: Path) -> dict[str, Any]:
    version = sha256_of(source)
    try:
        manifest = lake.partition_metadata("raw", spec.name, ds)
    except PartitionNotFound:
        manifest = {"versions": []}
    current = manifest.get("current")
    if current and current["data_version"] == version:
        return {"status": "unchanged", "ds": ds, **_summary(current, lake.partition_dir("raw", spec.name, ds))}

    rows = len(read_table(spec, source))
    entry = {
        "data_version": version,
        "file": f"{version[:16]}{source.suffix}",
        "source_path": str(source),
        "size_bytes": source.stat().st_size,
        "rows": rows,
        "arrived_at": datetime.fromtimestamp(source.stat().st_mtime, UTC).isoformat(),
        "ingested_at": datetime.now(UTC).isoformat(),
    }
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
    status = "new_version" if current else "ingested"
    return {"status": status, "ds": ds, "replaced_version": current["data_version"] if current else None,
            **_summary(entry, final)}


def _summary(entry: dict[str, Any], directory: Path) -> dict[str, Any]:
    return {"data_version": entry["data_version"], "rows": entry["rows"], "raw_path": str(directory / entry["file"])}


def _ingest_labels(spec: PipelineSpec, lake: Lake, ds: str, source: Path) -> int:
    labels = read_table(spec, source)
    required = [spec.id_column, spec.event_date_column, spec.target.column]
    missing = [c for c in required if c not in labels.columns]
    if missing:
        raise BadLabels(f"{source}: labels file lacks columns {missing}")
    if labels[spec.target.column].isna().any():
        raise BadLabels(f"{source}: {int(labels[spec.target.column].isna().sum())} labels are empty")
    labels = labels[required].copy()
    labels["label_arrived_ds"] = ds
    version = sha256_of(source)

    def write(staging: Path) -> dict[str, Any]:
        labels.to_parquet(staging / "labels.parquet", index=False)
        return {"data_version": version, "rows": len(labels), "source_path": str(source)}

    lake.publish_partition("labels", spec.name, ds, write)
    return len(labels)


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
