"""Which rows of a failed batch are invalid, and the typed schema of the rows that pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec


def invalid_rows(df: pd.DataFrame, failed: list[dict[str, Any]]) -> tuple[pd.Series, list[dict[str, Any]]]:
    """Per-row reasons for the failed row-level expectations, and the failures that are batch-level.

    Row masks are computed here in vectorised pandas rather than from GX's ``unexpected_index_list``:
    that needs ``COMPLETE`` results, GX's most expensive format, on every batch, while the masks cost one
    pass per failed expectation and are only computed for a batch that failed. An expectation with
    ``mostly``, or about the table, a column's presence, type or statistics, is batch-level.

    Returns a string series (``""`` for a valid row, else the failing expectations joined by ``"; "``).
    """
    import pandas as pd

    reasons = pd.Series("", index=df.index, dtype=object)
    batch_level: list[dict[str, Any]] = []
    for failure in failed:
        mask = _row_mask(df, str(failure["expectation"]), failure.get("kwargs") or {})
        if mask is None:
            batch_level.append(failure)
            continue
        name = f"{failure['expectation']}({failure['column']})"
        reasons = reasons.where(~mask, reasons + name + "; ")
    return reasons.str.rstrip("; "), batch_level


def _row_mask(df: pd.DataFrame, kind: str, kwargs: dict[str, Any]) -> pd.Series | None:
    import pandas as pd

    column = kwargs.get("column")
    if column is None or column not in df.columns or kwargs.get("mostly") is not None:
        return None
    values = df[column]
    present = values.notna()
    if kind == "expect_column_values_to_not_be_null":
        return ~present
    if kind == "expect_column_values_to_be_in_set":
        return present & ~values.isin(kwargs.get("value_set") or [])
    if kind == "expect_column_values_to_be_unique":
        return present & values.duplicated(keep=False)
    if kind == "expect_column_values_to_match_regex":
        return present & ~values.astype(str).str.contains(str(kwargs["regex"]), regex=True)
    if kind == "expect_column_values_to_match_strftime_format":
        parsed = pd.to_datetime(values, format=str(kwargs["strftime_format"]), errors="coerce")
        return present & parsed.isna()
    if kind == "expect_column_values_to_be_between":
        numbers = pd.to_numeric(values, errors="coerce")
        inside = numbers.notna()
        if kwargs.get("min_value") is not None:
            low = float(kwargs["min_value"])
            inside &= numbers > low if kwargs.get("strict_min") else numbers >= low
        if kwargs.get("max_value") is not None:
            high = float(kwargs["max_value"])
            inside &= numbers < high if kwargs.get("strict_max") else numbers <= high
        return present & ~inside
    return None


def typed_frame(spec: PipelineSpec, df: pd.DataFrame) -> pd.DataFrame:
    """The validated schema: id and event date as strings, numeric float64, binary int64,
    categorical pandas ``string``; only these columns, in this order."""
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    out[spec.id_column] = df[spec.id_column].astype("string")
    out[spec.event_date_column] = df[spec.event_date_column].astype("string")
    for column in spec.features.numeric:
        out[column] = pd.to_numeric(df[column], errors="raise").astype("float64")
    for column in spec.features.binary:
        out[column] = pd.to_numeric(df[column], errors="raise").astype("int64")
    for column in spec.features.categorical:
        out[column] = df[column].astype("string")
    return out.reset_index(drop=True)
