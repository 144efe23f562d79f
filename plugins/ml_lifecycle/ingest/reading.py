"""Reading a landed or raw file as the spec describes it, with an error naming the file and the problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ml_lifecycle.exceptions import BadLandingFile
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd

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
