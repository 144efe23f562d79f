"""GX's verdict for the simple expectation kinds, computed in vectorised pandas (large batches only).

Only plain configurations are screened, with GX's semantics; ``tests/unit/validation`` compares every
screened verdict with GX's on good and broken batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.validation.results import _plain

if TYPE_CHECKING:
    import pandas as pd

_SCREENED_KWARGS = {
    "expect_column_to_exist": {"column"},
    "expect_table_row_count_to_be_between": {"min_value", "max_value"},
    "expect_table_columns_to_match_set": {"column_set", "exact_match"},
    "expect_column_values_to_not_be_null": {"column", "mostly"},
    "expect_column_values_to_be_in_set": {"column", "value_set", "mostly"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "mostly"},
    "expect_column_values_to_be_unique": {"column", "mostly"},
    "expect_column_mean_to_be_between": {"column", "min_value", "max_value"},
    "expect_column_values_to_match_regex": {"column", "regex", "mostly"},
    "expect_column_values_to_match_strftime_format": {"column", "strftime_format", "mostly"},
}


def screen(df: pd.DataFrame, config: dict[str, Any]) -> tuple[bool, dict[str, Any]] | None:
    """(verdict, GX-style result) for the simple expectation kinds, in vectorised pandas; None: ask GX.

    Only plain configurations are screened (no row conditions, strict bounds or other options), with GX's
    semantics: nulls are ignored by the value checks and count against ``mostly``. The result has GX's
    keys (``observed_value`` or ``unexpected_count``/``unexpected_percent``/``partial_unexpected_list``),
    so a failure is reported without asking GX again.
    """
    import pandas as pd

    kind = config.get("type")
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    allowed = _SCREENED_KWARGS.get(str(kind))
    if allowed is None or not set(kwargs) <= allowed:
        return None
    if kind == "expect_table_row_count_to_be_between":
        return _within(len(df), kwargs.get("min_value"), kwargs.get("max_value")), {"observed_value": len(df)}
    if kind == "expect_table_columns_to_match_set":
        if kwargs.get("exact_match", True) is not True:
            return None
        return set(df.columns) == set(kwargs["column_set"]), {"observed_value": list(df.columns)}
    column = kwargs.get("column")
    if kind == "expect_column_to_exist":
        return column in df.columns, {}
    if column not in df.columns:
        return None  # GX's own message names the missing column
    values = df[column]
    mostly = float(kwargs.get("mostly", 1.0))
    if kind == "expect_column_values_to_not_be_null":
        return _map_result(values.isna(), values, mostly, total=len(values))
    present = values.dropna()
    if kind in {"expect_column_values_to_be_between", "expect_column_mean_to_be_between"}:
        if not pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
            return None
        if kind == "expect_column_mean_to_be_between":
            if not len(present):
                return None
            mean = float(present.mean())
            return _within(mean, kwargs.get("min_value"), kwargs.get("max_value")), {"observed_value": mean}
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bad = pd.Series(False, index=present.index)
        if low is not None:
            bad |= present < low
        if high is not None:
            bad |= present > high
        return _map_result(bad, present, mostly)
    if kind == "expect_column_values_to_be_in_set":
        return _map_result(~present.isin(list(kwargs["value_set"])), present, mostly)
    if kind == "expect_column_values_to_be_unique":
        return _map_result(present.duplicated(keep=False), present, mostly)
    if kind == "expect_column_values_to_match_regex":
        return _map_result(~present.astype(str).str.contains(kwargs["regex"]), present, mostly)
    if kind == "expect_column_values_to_match_strftime_format":
        # GX runs strptime on every row (5.7 s at 1M rows); dates repeat, so parse each distinct value once.
        distinct = present.unique()
        if not all(isinstance(v, str) for v in distinct):
            return None
        unparseable = [v for v in distinct if not _parses(v, kwargs["strftime_format"])]
        return _map_result(present.isin(unparseable), present, mostly)
    return None


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _map_result(
    unexpected: pd.Series, values: pd.Series, mostly: float, *, total: int | None = None
) -> tuple[bool, dict[str, Any]]:
    count = int(unexpected.sum())
    denominator = total if total is not None else len(unexpected)
    share = count / denominator if denominator else 0.0
    success = denominator == 0 or 1.0 - share >= mostly
    sample = values[unexpected].head(20).tolist()
    return success, {"unexpected_count": count, "unexpected_percent": 100.0 * share,
                     "partial_unexpected_list": [_plain(v) if hasattr(v, "item") else v for v in sample]}


def _parses(value: str, fmt: str) -> bool:
    from datetime import datetime

    try:
        datetime.strptime(value, fmt)  # noqa: DTZ007 (GX's own check, naive on purpose)
    except ValueError:
        return False
    return True
