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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import SUCCESS_MARKER, Lake, PartitionNotFound, as_ds
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd


class LandingNotReady(FileNotFoundError):
    """The landing folder of a date is missing or not marked complete yet."""


class BadLandingFile(ValueError):
    """A landed file that cannot be read as the spec describes it; the message names the file and the problem.

    Its bytes are still kept in ``raw/`` (under their hash), so nothing that arrived is ever lost.
    """


class LandingInTheFuture(ValueError):
    """A landing drop dated after today: a clock or naming error at the source, never a real day."""


class BadLabels(ValueError):
    """A labels file that cannot be used; the message names the problem and the file."""


# Delimiters a source might use by mistake; a one-column header containing one of them is named in the error.
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_ISO_DATE = "%Y-%m-%d"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(spec: PipelineSpec, path: Path) -> pd.DataFrame:
    """Read a landed or raw file with the spec's format options: ids as text, event dates as ISO text.

    Anything that keeps the file from being read raises :class:`BadLandingFile` naming the file and the
    problem, never a bare pandas or pyarrow traceback.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise BadLandingFile(f"{path}: file is empty (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(4096)
    compressed = path.suffix == ".gz"
    if compressed and not head.startswith(b"\x1f\x8b"):
        raise BadLandingFile(f"{path}: named .gz but is not gzip data (starts with {head[:8]!r})")

    if spec.source.format == "parquet":
        frame = _read_parquet(path, head)
    else:
        frame = _read_csv(spec, path, head, compressed=compressed)

    if spec.id_column in frame.columns:
        ids = frame[spec.id_column]
        frame[spec.id_column] = ids.astype(str).where(ids.notna(), None)
    if spec.event_date_column in frame.columns:
        frame[spec.event_date_column] = _iso_dates(spec, frame[spec.event_date_column])
    return frame


def _read_parquet(path: Path, head: bytes) -> pd.DataFrame:
    import pandas as pd

    if not head.startswith(b"PAR1"):
        raise BadLandingFile(f"{path}: not a Parquet file (no PAR1 magic bytes; starts with {head[:8]!r})")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for damaged files; all mean the same to a user
        raise BadLandingFile(f"{path}: corrupt Parquet file: {type(exc).__name__}: {exc}") from exc


def _read_csv(spec: PipelineSpec, path: Path, head: bytes, *, compressed: bool) -> pd.DataFrame:
    import pandas as pd

    if not compressed and b"\x00" in head:
        raise BadLandingFile(f"{path}: binary content (NUL bytes), not a {spec.source.delimiter!r}-delimited text file")
    encoding = spec.source.encoding
    # A UTF-8 byte-order mark (Excel exports) would otherwise become part of the first column's name.
    read_encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        frame = pd.read_csv(
            path,
            sep=spec.source.delimiter,
            encoding=read_encoding,
            dtype={spec.id_column: str, spec.event_date_column: str},
            compression="gzip" if compressed else None,
        )
    except UnicodeDecodeError as exc:
        raise BadLandingFile(
            f"{path}: not valid {encoding} text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}: {exc.reason}); the spec says source.encoding={encoding!r}"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise BadLandingFile(f"{path}: no header line (the file holds only blank space)") from exc
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BadLandingFile(
            f"{path}: not parseable as CSV with delimiter {spec.source.delimiter!r}: {reason}"
        ) from exc
    except (OSError, EOFError, ValueError) as exc:  # damaged gzip stream, bad options
        raise BadLandingFile(f"{path}: cannot be read: {type(exc).__name__}: {exc}") from exc

    if len(frame.columns) == 1 and spec.id_column not in frame.columns:
        header = str(frame.columns[0])
        guessed = [d for d in _OTHER_DELIMITERS if d != spec.source.delimiter and d in header]
        if guessed:
            raise BadLandingFile(
                f"{path}: wrong delimiter: the header is one column {header[:60]!r}... split by {guessed[0]!r}; "
                f"the spec says source.delimiter={spec.source.delimiter!r}"
            )
    if not compressed:
        _refuse_truncated_last_line(spec, path, len(frame.columns))
    return frame


def _refuse_truncated_last_line(spec: PipelineSpec, path: Path, columns: int) -> None:
    # pandas fills a short last line with NaN silently; a file cut off mid-write shows exactly that.
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if tail.endswith(b"\n"):
        return
    last = tail.rsplit(b"\n", 1)[-1]
    fields = last.count(spec.source.delimiter.encode()) + 1
    if fields < columns:
        raise BadLandingFile(
            f"{path}: last line is truncated ({fields} of {columns} fields and no final newline): "
            "the file was cut off while being written"
        )


def _iso_dates(spec: PipelineSpec, dates: pd.Series) -> pd.Series:
    """Event dates as ISO ``YYYY-MM-DD`` text; values that do not parse are kept as they are, so the
    suite's date-format check names them instead of a silent NaN."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(dates):
        return dates.dt.strftime(_ISO_DATE).where(dates.notna(), None)
    if dates.dtype != object:
        # Parquet date32 columns arrive as python dates; anything else is left for the suite to flag
        dates = dates.astype(object)
    if spec.source.date_format == _ISO_DATE and dates.map(lambda v: v is None or isinstance(v, str)).all():
        return dates  # already ISO text, or not: the suite checks the format on every row
    as_text = dates.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    parsed = pd.to_datetime(as_text, format=spec.source.date_format, errors="coerce")
    return parsed.dt.strftime(_ISO_DATE).where(parsed.notna(), as_text)


def landing_ready(pipeline: str, lake: Lake, ds: str) -> bool:
    """Whether the day's landing drop is complete: the source writes ``_SUCCESS`` after its files."""
    return (lake.landing_dir(pipeline, as_ds(ds)) / SUCCESS_MARKER).is_file()


def ingest_landing(spec: PipelineSpec, lake: Lake, ds: str, *, today: date | None = None) -> dict[str, Any]:
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


def _ingest_labels(spec: PipelineSpec, lake: Lake, ds: str, source: Path) -> int:
    try:
        labels = read_table(spec, source)
    except BadLandingFile as exc:
        raise BadLabels(str(exc)) from exc
    required = [spec.id_column, spec.event_date_column, spec.target.column]
    missing = [c for c in required if c not in labels.columns]
    if missing:
        raise BadLabels(f"{source}: labels file lacks columns {missing}")
    target = labels[spec.target.column]
    if target.isna().any():
        raise BadLabels(f"{source}: {int(target.isna().sum())} labels are empty")
    values = sorted({str(v) for v in target.unique()})
    if len(values) > 2 or str(spec.target.positive_class) not in values and len(values) == 2:
        raise BadLabels(
            f"{source}: invalid label values: a binary target has two values including "
            f"{spec.target.positive_class!r}, found {values[:10]}"
        )
    duplicated = labels[spec.id_column].duplicated(keep=False)
    if duplicated.any():
        ids = sorted(labels.loc[duplicated, spec.id_column].unique())
        raise BadLabels(f"{source}: {len(ids)} id(s) labelled more than once, e.g. {ids[:5]}")
    unknown = _ids_never_seen(spec, lake, labels)
    if unknown:
        # Labels of ids we never saw cannot be used, but the day's other labels (and its features) can:
        # the unknown rows are kept aside with the reason instead of blocking the whole drop.
        reason = (f"{source}: {len(unknown)} label(s) for ids that are not in the features of their event date, "
                  f"e.g. {unknown[:5]}")
        rejected = labels[labels[spec.id_column].astype(str).isin(set(unknown))]
        lake.publish_report(spec.name, "labels", ds, lambda staging: _write_rejected_labels(staging, rejected, reason))
        labels = labels[~labels.index.isin(rejected.index)]
    labels = labels[required].copy()
    labels["label_arrived_ds"] = ds
    version = sha256_of(source)

    def write(staging: Path) -> dict[str, Any]:
        labels.to_parquet(staging / "labels.parquet", index=False)
        return {"data_version": version, "rows": len(labels), "source_path": lake.location(source)}

    lake.publish_partition("labels", spec.name, ds, write)
    return len(labels)


def _write_rejected_labels(staging: Path, rejected: pd.DataFrame, reason: str) -> dict[str, Any]:
    rejected.assign(reason=reason).to_parquet(staging / "rejected_labels.parquet", index=False)
    return {"rejected_rows": len(rejected), "reason": reason}


def _ids_never_seen(spec: PipelineSpec, lake: Lake, labels: pd.DataFrame) -> list[str]:
    """Label ids that were neither validated nor quarantined on their event date.

    Only dates that were validated or quarantined are checked: a date whose features never arrived (or
    are still to be validated) has nothing to compare against yet.
    """
    import pandas as pd

    unknown: list[str] = []
    for event_ds, group in labels.groupby(spec.event_date_column):
        seen: set[str] = set()
        checked = False
        for zone, file in (("validated", "data.parquet"), ("quarantine", "rejected.parquet")):
            try:
                directory = lake.require_partition(zone, spec.name, str(event_ds))
            except (PartitionNotFound, ValueError):  # ValueError: an event date that is not a date
                continue
            if (directory / file).is_file():
                ids = pd.read_parquet(directory / file, columns=None)
                if spec.id_column in ids.columns:
                    seen |= set(ids[spec.id_column].dropna().astype(str))
                    checked = True
        if checked:
            unknown += sorted(str(i) for i in group[spec.id_column] if i not in seen)
    return unknown


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
