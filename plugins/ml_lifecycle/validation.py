"""Validation: run a pipeline's Great Expectations suite on a day's batch and route the batch.

A batch that passes every expectation of severity ``error`` becomes the typed ``validated`` partition,
the only input training and scoring read. A batch that fails one is kept, as it arrived, in
``quarantine`` with the reasons, and the step raises :class:`DataValidationError`. Expectations of
severity ``warn`` are reported but never block. A JSON and an HTML report are written either way,
before anything else, so a failure can always be explained.

Severity lives in each expectation's ``meta`` (``{"severity": "error" | "warn"}``); the suite is a
versioned JSON file next to the pipeline spec (``include/expectations/<pipeline>.json``).

Heavy libraries (pandas, great_expectations) are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import INPUTS_KEY, Lake, fingerprint_of, write_json, write_text

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec

log = logging.getLogger(__name__)

SEVERITY_ERROR = "error"
SEVERITY_WARN = "warn"
_SEVERITY_ALIASES = {
    "error": SEVERITY_ERROR,
    "critical": SEVERITY_ERROR,
    "warn": SEVERITY_WARN,
    "warning": SEVERITY_WARN,
    "info": SEVERITY_WARN,
}
# GX 1.x expectations also carry a native ``severity``; the draft keeps it in step with ``meta``.
_GX_SEVERITY = {SEVERITY_ERROR: "critical", SEVERITY_WARN: "warning"}

RESULT_FORMAT = "SUMMARY"
# Up to this many rows GX computes SUMMARY detail in one pass; above it, BOOLEAN_ONLY first (see run_suite).
DETAIL_MAX_ROWS = 200_000
MAX_NAMED_FAILURES = 5
VALIDATED_FILE = "data.parquet"
REJECTED_FILE = "rejected.parquet"
REASON_FILE = "reason.json"
REPORT_JSON = "validation.json"
REPORT_HTML = "validation.html"

# dtypes accepted for numeric and binary columns as a batch arrives (before typed_frame casts them).
NUMERIC_TYPES = ["int8", "int16", "int32", "int64", "float32", "float64", "Int64Dtype", "Float64Dtype"]
BINARY_TYPES = ["int8", "int16", "int32", "int64", "Int64Dtype", "bool", "BooleanDtype"]


class DataValidationError(ValueError):
    """A batch failed at least one expectation of severity ``error``; it was quarantined."""

    def __init__(
        self,
        message: str,
        *,
        report_path: str,
        failed: list[dict[str, Any]],
        quarantine_path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.report_path = report_path
        self.failed = failed
        self.quarantine_path = quarantine_path


@dataclass(frozen=True)
class ValidationOutcome:
    success: bool
    evaluated: int
    failed_errors: list[dict[str, Any]]
    failed_warnings: list[dict[str, Any]]
    rows: int
    gx_result: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary, without the (large) full GX result."""
        return {
            "success": self.success,
            "evaluated": self.evaluated,
            "passed": self.evaluated - len(self.failed_errors) - len(self.failed_warnings),
            "errors": len(self.failed_errors),
            "warnings": len(self.failed_warnings),
            "rows": self.rows,
            "failed_errors": self.failed_errors,
            "failed_warnings": self.failed_warnings,
        }


# ---- the suite -------------------------------------------------------------------------------


def _import_gx() -> Any:
    # Importing GX under an INFO root logger (always the case inside Airflow) prints ~210
    # "Skipping registering function" lines; silence its logger first.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    # One GX module pins its own logger to INFO and announces a temporary docs folder for every
    # ephemeral context; the parent's level does not reach it.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    return gx


def suite_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_suite(path: Path) -> gx.ExpectationSuite:
    """Load a suite from its JSON file; refuse a file that GX would silently load only in part."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: expectation suite is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        raise ValueError(f"{path}: expectation suite must be an object with an 'expectations' list")
    for index, expectation in enumerate(raw["expectations"]):
        severity = (expectation.get("meta") or {}).get("severity", SEVERITY_ERROR)
        if str(severity).lower() not in _SEVERITY_ALIASES:
            raise ValueError(
                f"{path}: expectation #{index} ({expectation.get('type')}) has unknown severity "
                f"{severity!r}; use 'error' or 'warn'"
            )
    gx = _import_gx()
    from great_expectations.expectations.registry import get_expectation_impl

    # GX only logs an expectation of an unknown type (a typo) and drops it from the suite.
    unknown = []
    for index, expectation in enumerate(raw["expectations"]):
        try:
            get_expectation_impl(str(expectation.get("type")))
        except gx.exceptions.ExpectationNotFoundError:
            unknown.append(
                f"#{index} {expectation.get('type')}({(expectation.get('kwargs') or {}).get('column')})"
            )
    if unknown:
        raise ValueError(f"{path}: unknown expectation type(s), they would be skipped: {unknown}")
    try:
        suite = gx.ExpectationSuite(**raw)
    except (TypeError, ValueError) as exc:  # invalid kwargs raise (pydantic v1 errors are ValueErrors)
        raise ValueError(f"{path}: invalid expectation suite: {exc}") from exc
    if len(suite.expectations) != len(raw["expectations"]):
        raise ValueError(
            f"{path}: GX skipped {len(raw['expectations']) - len(suite.expectations)} expectation(s) with an "
            "invalid configuration (see the great_expectations log)"
        )
    return suite


# ---- running it ------------------------------------------------------------------------------


def run_suite(
    df: pd.DataFrame, suite_path: Path, *, extra_expectations: list[dict[str, Any]] | None = None
) -> ValidationOutcome:
    """Validate a whole dataframe against the suite in a throwaway (ephemeral) GX context.

    ``extra_expectations`` are added at run time (the row-count bounds relative to recent days).
    GX's cost grows with the detail it computes: a large batch gets a cheap ``BOOLEAN_ONLY`` pass first,
    and only the expectations that failed are re-run with ``SUMMARY`` detail for the report.
    """
    loaded = load_suite(suite_path)
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suite_json: dict[str, Any] = loaded.to_json_dict()
    configs: list[dict[str, Any]] = [*suite_json["expectations"], *(extra_expectations or [])]
    suite = gx.ExpectationSuite(name=loaded.name, expectations=configs, meta=loaded.meta)
    context = gx.get_context(mode="ephemeral")
    # tqdm bars ("Calculating Metrics") would otherwise go to every task log.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": df})
    )
    if len(df) <= DETAIL_MAX_ROWS:
        gx_result = batch.validate(suite, result_format=RESULT_FORMAT).to_json_dict()
    else:
        # GX costs ~0.14 s per expectation at 1M rows whatever the detail: the simple kinds are screened
        # in vectorised pandas, GX runs the rest, and anything that failed is re-run by GX for the report.
        screened = {_config_key(c): screen(df, c) for c in configs}
        rest = [c for c in configs if screened[_config_key(c)] is None]
        gx_result = batch.validate(
            gx.ExpectationSuite(name=f"{loaded.name}-rest", expectations=rest), result_format="BOOLEAN_ONLY"
        ).to_json_dict()
        by_key_gx = {_config_key(r.get("expectation_config") or {}): r for r in gx_result.get("results", [])}
        results: list[dict[str, Any]] = []
        for c in configs:
            done = screened[_config_key(c)]
            results.append(by_key_gx[_config_key(c)] if done is None else
                           {"success": done[0], "expectation_config": c, "result": done[1], "screened_by": "pandas"})
        gx_result["results"] = results
        gx_result["success"] = all(r.get("success") for r in results)
        # Failures GX judged get GX's detail; screened ones already carry theirs.
        failed_keys = {_config_key(r.get("expectation_config") or {}) for r in results
                       if not r.get("success") and "screened_by" not in r}
        if failed_keys:
            retry = gx.ExpectationSuite(
                name=f"{loaded.name}-detail", expectations=[c for c in configs if _config_key(c) in failed_keys]
            )
            detail = batch.validate(retry, result_format=RESULT_FORMAT).to_json_dict()
            by_key = {_config_key(r.get("expectation_config") or {}): r for r in detail.get("results", [])}
            gx_result["results"] = [
                by_key.get(_config_key(r.get("expectation_config") or {}), r) for r in gx_result["results"]
            ]
    # Some expectations (KL divergence) leave numpy scalars even in to_json_dict(): make it plain JSON.
    gx_result = json.loads(json.dumps(gx_result, default=_plain))
    rows = [_result_row(r) for r in gx_result.get("results", [])]
    failed_errors = _ordered([r for r in rows if not r["success"] and r["severity"] == SEVERITY_ERROR])
    failed_warnings = _ordered([r for r in rows if not r["success"] and r["severity"] == SEVERITY_WARN])
    return ValidationOutcome(
        success=not failed_errors,
        evaluated=len(rows),
        failed_errors=[_failure(r) for r in failed_errors],
        failed_warnings=[_failure(r) for r in failed_warnings],
        rows=len(df),
        gx_result=gx_result,
    )


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


def prescreen(df: pd.DataFrame, config: dict[str, Any]) -> bool | None:
    """GX's verdict for the simple expectation kinds, computed in vectorised pandas; None: ask GX."""
    screened = screen(df, config)
    return None if screened is None else screened[0]


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





def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    return str(value)


def _config_key(config: dict[str, Any]) -> str:
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    return json.dumps([config.get("type"), kwargs], sort_keys=True, default=str)


# ---- row count relative to recent days -------------------------------------------------------


def recent_row_count_expectation(spec: PipelineSpec, lake: Lake, ds: str) -> dict[str, Any] | None:
    """A row-count expectation with bounds from the median of the last validated partitions before ``ds``.

    GX has no "relative to recent days" expectation, so the bounds are computed here from the lake's
    partition metadata and passed to ``expect_table_row_count_to_be_between``; with too little history
    (a new pipeline) there is no such check and the suite's absolute bounds stand alone.
    """
    policy = spec.validation
    earlier = [d for d in lake.partitions("validated", spec.name) if d < ds][-policy.row_count_window:]
    counts = [int(lake.partition_metadata("validated", spec.name, d).get("rows", 0)) for d in earlier]
    counts = [c for c in counts if c > 0]
    if len(counts) < policy.row_count_min_history:
        return None
    median = statistics.median(counts)
    return _expectation(
        "expect_table_row_count_to_be_between",
        policy.row_count_severity,
        min_value=math.floor(policy.row_count_min_ratio * median),
        max_value=math.ceil(policy.row_count_max_ratio * median),
        notes=(
            f"{policy.row_count_min_ratio:g}x..{policy.row_count_max_ratio:g}x the median ({median:g}) of the "
            f"row counts of the {len(counts)} validated partitions before {ds} ({earlier[0]}..{earlier[-1]})"
        ),
    ) | {"meta": {"severity": policy.row_count_severity, "relative_to_recent_days": len(counts)}}


# ---- which rows failed -----------------------------------------------------------------------


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


def _severity(config: dict[str, Any]) -> str:
    meta_severity = (config.get("meta") or {}).get("severity")
    if meta_severity is not None:
        return _SEVERITY_ALIASES.get(str(meta_severity).lower(), SEVERITY_ERROR)
    return _SEVERITY_ALIASES.get(str(config.get("severity", "critical")).lower(), SEVERITY_ERROR)


def _column(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column") is not None:
        return str(kwargs["column"])
    for pair in (("column_A", "column_B"),):
        if kwargs.get(pair[0]) is not None:
            return f"{kwargs[pair[0]]},{kwargs[pair[1]]}"
    if kwargs.get("column_list"):
        return ",".join(str(c) for c in kwargs["column_list"])
    return None


def _exception_message(exception_info: Any) -> str | None:
    if not isinstance(exception_info, dict):
        return None
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    # Column-map expectations key their exceptions by metric id.
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _observed(result: dict[str, Any], exception_info: Any) -> Any:
    error = _exception_message(exception_info)
    if error is not None:
        return {"error": error}
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        return mismatched
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        percent = result.get("unexpected_percent")
        return {
            "unexpected_count": result["unexpected_count"],
            "unexpected_percent": round(percent, 3) if isinstance(percent, int | float) else percent,
            "partial_unexpected_list": (result.get("partial_unexpected_list") or [])[:MAX_NAMED_FAILURES],
        }
    return result or None


def _result_row(r: dict[str, Any]) -> dict[str, Any]:
    config = r.get("expectation_config") or {}
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    success = bool(r.get("success"))
    observed = _observed(r.get("result") or {}, r.get("exception_info"))
    if not success and observed is None and config.get("type") == "expect_column_to_exist":
        observed = "column not found"
    return {
        "success": success,
        "expectation": config.get("type"),
        "column": _column(kwargs),
        "severity": _severity(config),
        "observed": observed,
        "kwargs": kwargs,
    }


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # GX returns results grouped by metric, not in suite order: give reports a stable order, table-level
    # checks first, then by column.
    return sorted(rows, key=lambda r: (r["column"] is not None, r["column"] or "", r["expectation"] or ""))


def _failure(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "expectation": row["expectation"],
        "column": row["column"],
        "severity": row["severity"],
        "observed": row["observed"],
        "kwargs": row["kwargs"],
    }


def describe_failures(failed: list[dict[str, Any]], limit: int = MAX_NAMED_FAILURES) -> str:
    named = [
        f"{f['expectation']}({f['column']})" if f.get("column") else str(f["expectation"]) for f in failed
    ]
    text = ", ".join(named[:limit])
    if len(named) > limit:
        text += f" and {len(named) - limit} more"
    return text


# ---- the typed, validated schema -------------------------------------------------------------


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


# ---- routing a day's batch -------------------------------------------------------------------


def _summary(status: str, *, rows: int, rows_validated: int, rows_rejected: int, warnings: int,
             report_dir: Path, validated_dir: Path, data_version: str,
             relative: dict[str, Any] | None) -> dict[str, Any]:
    """What ``validate_partition`` returns for a batch that passed (a small, JSON-able XCom)."""
    return {
        "status": status,
        "rows": rows,
        "rows_validated": rows_validated,
        "rows_rejected": rows_rejected,
        "warnings": warnings,
        "report_path": str(report_dir / REPORT_HTML),
        "report_json": str(report_dir / REPORT_JSON),
        "validated_path": str(validated_dir / VALIDATED_FILE),
        "data_version": data_version,
        "row_count_bounds": [relative["kwargs"]["min_value"], relative["kwargs"]["max_value"]] if relative else None,
    }


def _unchanged_validation(spec: PipelineSpec, lake: Lake, ds: str, inputs: str,
                          relative: dict[str, Any] | None) -> dict[str, Any] | None:
    """The summary of the published validation of these very inputs (a re-run), or None to validate."""
    metadata = lake.published_metadata("validated", spec.name, ds)
    if metadata is None or metadata.get(INPUTS_KEY) != inputs:
        return None
    rejected = int(metadata.get("rows_rejected", 0))
    return _summary("unchanged", rows=int(metadata["rows"]) + rejected, rows_validated=int(metadata["rows"]),
                    rows_rejected=rejected, warnings=int(metadata.get("warnings", 0)),
                    report_dir=lake.report_dir(spec.name, "validation", ds),
                    validated_dir=lake.partition_dir("validated", spec.name, ds),
                    data_version=metadata["data_version"], relative=relative)


def _raise_if_rejected_before(spec: PipelineSpec, lake: Lake, ds: str, inputs: str) -> None:
    """A re-run of a batch already rejected for these very inputs fails the same way, writing nothing."""
    metadata = lake.published_metadata("quarantine", spec.name, ds)
    if metadata is None or metadata.get(INPUTS_KEY) != inputs or not metadata.get("batch_verdict"):
        return
    quarantine_dir = lake.require_partition("quarantine", spec.name, ds)
    reason = json.loads((quarantine_dir / REASON_FILE).read_text())
    report_html = lake.report_dir(spec.name, "validation", ds) / REPORT_HTML
    raise DataValidationError(
        f"{spec.name} ds={ds}: {metadata['batch_verdict']} in {quarantine_dir}; report: {report_html} "
        f"(as first judged at {metadata.get('quarantined_at')}: same data, suite and spec)",
        report_path=str(report_html),
        failed=list(reason.get("failed", [])),
        quarantine_path=str(quarantine_dir),
    )


def validate_partition(
    spec: PipelineSpec, lake: Lake, ds: str, df: pd.DataFrame, *, data_version: str
) -> dict[str, Any]:
    """Validate one day's raw batch; publish it as ``validated`` or ``quarantine`` it and raise.

    The report (JSON + HTML) is written first, in every case. On failure the ``validated``
    partition of that date is left untouched (absent, or as an earlier run published it).
    """
    suite_path = spec.expectations_path
    suite_hash = suite_sha256(suite_path)
    relative = recent_row_count_expectation(spec, lake, ds)
    inputs = fingerprint_of({"data_version": data_version, "suite_sha256": suite_hash, "spec_hash": spec.spec_hash,
                             "row_count_check": relative})
    unchanged = _unchanged_validation(spec, lake, ds, inputs, relative)
    if unchanged is not None:
        return unchanged
    _raise_if_rejected_before(spec, lake, ds, inputs)
    outcome = run_suite(df, suite_path, extra_expectations=[relative] if relative else None)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    provenance = {
        "pipeline": spec.name,
        "ds": ds,
        "data_version": data_version,
        "suite": suite_path.name,
        "suite_sha256": suite_hash,
        "spec_hash": spec.spec_hash,
        "policy": spec.validation.policy,
    }

    report_dir = lake.report_dir(spec.name, "validation", ds)
    report_json = report_dir / REPORT_JSON
    report_html = report_dir / REPORT_HTML
    lake.write_json(
        report_json, {**provenance, "validated_at": now, **outcome.to_dict(), "gx_result": outcome.gx_result}
    )
    lake.write_text(report_html, render_html(outcome, title=f"{spec.name} validation ds={ds} ({data_version})"))

    keep = None  # rows that pass on (all of them when the batch passed)
    reasons = None
    verdict = ""
    if not outcome.success:
        reasons, batch_level = invalid_rows(df, outcome.failed_errors)
        invalid = reasons != ""
        invalid_fraction = float(invalid.mean()) if len(df) else 1.0
        droppable = spec.validation.policy == "drop_invalid_rows" and not batch_level
        if droppable and invalid_fraction <= spec.validation.max_invalid_fraction:
            keep = ~invalid
        else:
            if spec.validation.policy == "drop_invalid_rows" and not batch_level:
                verdict = (
                    f"{invalid.sum()} invalid rows ({invalid_fraction:.1%}) exceed max_invalid_fraction "
                    f"{spec.validation.max_invalid_fraction:.1%}; "
                )
            batch_names = describe_failures(batch_level, limit=3)
            reasons = reasons.where(invalid, f"batch: {batch_names}" if batch_names else "batch")

    if keep is None and reasons is not None:
        rejected_all = reasons
        verdict = (
            f"batch rejected, {verdict}{len(outcome.failed_errors)} expectation(s) of severity error failed: "
            f"{describe_failures(outcome.failed_errors)}; {outcome.rows} rows quarantined"
        )
        quarantine_dir = lake.publish_partition(
            "quarantine", spec.name, ds,
            _quarantine_writer(df, rejected_all, outcome, provenance, now, report_html, report_json,
                               batch_verdict=verdict),
            inputs=inputs,
        )
        raise DataValidationError(
            f"{spec.name} ds={ds}: {verdict} in {quarantine_dir}; report: {report_html}",
            report_path=str(report_html),
            failed=outcome.failed_errors,
            quarantine_path=str(quarantine_dir),
        )

    rows_rejected = 0
    if keep is not None and reasons is not None:
        rows_rejected = int((~keep).sum())
        lake.publish_partition(
            "quarantine", spec.name, ds,
            _quarantine_writer(df[~keep], reasons[~keep], outcome, provenance, now, report_html, report_json),
        )
        log.warning("%s ds=%s: %d invalid row(s) quarantined under policy drop_invalid_rows: %s",
                    spec.name, ds, rows_rejected, describe_failures(outcome.failed_errors))
    typed = typed_frame(spec, df if keep is None else df[keep])

    def write_validated(directory: Path) -> dict[str, Any]:
        typed.to_parquet(directory / VALIDATED_FILE, engine="pyarrow", index=False)
        return {
            "data_version": data_version,
            "rows": len(typed),
            "rows_rejected": rows_rejected,
            "suite": suite_path.name,
            "suite_sha256": suite_hash,
            "validated_at": now,
            "warnings": len(outcome.failed_warnings),
            "spec_hash": spec.spec_hash,
        }

    validated_dir = lake.publish_partition("validated", spec.name, ds, write_validated, inputs=inputs)
    if outcome.failed_warnings:
        log.warning(
            "%s ds=%s: %d warning(s): %s",
            spec.name,
            ds,
            len(outcome.failed_warnings),
            describe_failures(outcome.failed_warnings),
        )
    return _summary("passed" if not rows_rejected else "passed_with_rows_dropped", rows=outcome.rows,
                    rows_validated=len(typed), rows_rejected=rows_rejected, warnings=len(outcome.failed_warnings),
                    report_dir=report_dir, validated_dir=validated_dir, data_version=data_version,
                    relative=relative)


def _quarantine_writer(
    rows: pd.DataFrame,
    reasons: pd.Series,
    outcome: ValidationOutcome,
    provenance: dict[str, Any],
    now: str,
    report_html: Path,
    report_json: Path,
    *,
    batch_verdict: str | None = None,
) -> Any:
    def write(directory: Path) -> dict[str, Any]:
        _write_rejected(rows.assign(reason=reasons.astype(str)), directory / REJECTED_FILE)
        write_json(
            directory / REASON_FILE,
            {
                **provenance,
                "quarantined_at": now,
                "rows": len(rows),
                "batch_rows": outcome.rows,
                "failed": outcome.failed_errors,
                "warnings": outcome.failed_warnings,
                "report_path": str(report_html),
                "report_json": str(report_json),
            },
        )
        metadata = {**provenance, "rows": len(rows), "failed": len(outcome.failed_errors), "quarantined_at": now}
        return {**metadata, "batch_verdict": batch_verdict} if batch_verdict else metadata

    return write


def _write_rejected(df: pd.DataFrame, path: Path) -> None:
    """Keep the rejected rows as they arrived; a column parquet cannot store (mixed types) becomes text."""
    try:
        df.to_parquet(path, engine="pyarrow", index=False)
        return
    except (TypeError, ValueError) as exc:  # pyarrow's ArrowInvalid/ArrowTypeError derive from these
        log.warning("rejected batch is not storable as-is (%s); writing mixed-type columns as text", exc)
    safe = df.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    safe.to_parquet(path, engine="pyarrow", index=False)


# ---- the HTML report -------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.4rem;margin-bottom:.3rem}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;font-weight:600;color:#fff}
.pass{background:#1a7f37}.fail{background:#cf222e}.warn{background:#9a6700}
.summary{margin:.8rem 0 1.2rem;color:#57606a}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.failed-error td{background:#ffebe9}tr.failed-warn td{background:#fff8c5}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.82rem;white-space:pre-wrap;word-break:break-word}
"""


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_html(outcome: ValidationOutcome, *, title: str) -> str:
    """A self-contained HTML page: verdict, counts, and one table row per expectation."""
    rows = [_result_row(r) for r in outcome.gx_result.get("results", [])]
    rank = {(False, SEVERITY_ERROR): 0, (False, SEVERITY_WARN): 1}
    rows = sorted(_ordered(rows), key=lambda r: rank.get((r["success"], r["severity"]), 2))
    if not outcome.success:
        badge = '<span class="badge fail">FAILED</span>'
    elif outcome.failed_warnings:
        badge = '<span class="badge warn">PASSED WITH WARNINGS</span>'
    else:
        badge = '<span class="badge pass">PASSED</span>'
    body = []
    for r in rows:
        status = "pass" if r["success"] else "FAIL"
        css = "" if r["success"] else f' class="failed-{r["severity"]}"'
        params = {k: v for k, v in r["kwargs"].items() if k != "column"}
        body.append(
            f"<tr{css}><td>{status}</td><td>{html.escape(r['severity'])}</td>"
            f"<td><code>{html.escape(str(r['expectation']))}</code></td>"
            f"<td>{html.escape(r['column'] or '')}</td>"
            f"<td><code>{html.escape(_short(params) if params else '')}</code></td>"
            f"<td><code>{html.escape(_short(r['observed']))}</code></td></tr>"
        )
    passed = outcome.evaluated - len(outcome.failed_errors) - len(outcome.failed_warnings)
    meta = outcome.gx_result.get("meta") or {}
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<div>{badge}</div>\n"
        f'<p class="summary">{outcome.rows} rows &middot; {outcome.evaluated} expectations &middot; '
        f"{passed} passed &middot; {len(outcome.failed_errors)} failed (error) &middot; "
        f"{len(outcome.failed_warnings)} failed (warn) &middot; Great Expectations "
        f"{html.escape(str(meta.get('great_expectations_version', '')))}</p>\n"
        "<table><thead><tr><th>Result</th><th>Severity</th><th>Expectation</th><th>Column</th>"
        "<th>Parameters</th><th>Observed</th></tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>\n</body></html>\n"
    )


# ---- drafting a suite from data --------------------------------------------------------------


def _nice(value: float, *, up: bool, digits: int = 2) -> float:
    """Round to ``digits`` significant digits, away from the data (up for a maximum, down for a minimum)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    rounded = (math.ceil if up else math.floor)(value / step) * step
    return float(round(rounded, 10))


def _expectation(type_: str, severity: str, notes: str | None = None, **kwargs: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"severity": severity},
        "severity": _GX_SEVERITY[severity],
    }
    if notes:
        entry["notes"] = notes
    return entry


def draft_suite_from_frame(spec: PipelineSpec, df: pd.DataFrame) -> dict[str, Any]:
    """Profile a representative frame into a draft suite (review it by hand before committing it).

    ``df`` holds the spec's feature columns (id and event date columns are optional; their checks do not
    depend on the data). Ranges get a margin beyond what the data shows; categorical value sets are the
    values seen; columns with missing values get a soft (warn) and a hard (error) ``mostly`` bound.
    """
    import pandas as pd

    missing = [c for c in spec.feature_columns if c not in df.columns]
    if missing:
        raise ValueError(f"cannot draft a suite: the frame lacks feature columns {missing}")
    E, W = SEVERITY_ERROR, SEVERITY_WARN
    required = [spec.id_column, spec.event_date_column, *spec.feature_columns]
    exps: list[dict[str, Any]] = [
        _expectation(
            "expect_table_row_count_to_be_between",
            E,
            min_value=50,
            max_value=2_000_000,
            notes=(
                "Plausibility limits of a day's batch; the day-to-day check is relative to recent days "
                "(spec validation.row_count_*), added at run time."
            ),
        ),
        _expectation(
            "expect_table_columns_to_match_set",
            W,
            column_set=required,
            exact_match=True,
            notes="Extra columns are dropped by the validated schema; a target column here would be a leak.",
        ),
    ]
    exps += [_expectation("expect_column_to_exist", E, column=c) for c in required]
    exps += [
        _expectation("expect_column_values_to_not_be_null", E, column=spec.id_column),
        _expectation("expect_column_values_to_be_unique", E, column=spec.id_column),
        _expectation("expect_column_values_to_not_be_null", E, column=spec.event_date_column),
        _expectation(
            "expect_column_values_to_match_strftime_format",
            E,
            column=spec.event_date_column,
            strftime_format="%Y-%m-%d",
        ),
    ]
    for column in spec.features.numeric:
        values = pd.to_numeric(df[column], errors="coerce")
        lo, hi = float(values.min()), float(values.max())
        # A minimum that is near zero relative to the maximum is anchored at zero (counts, amounts).
        lower = (
            0.0
            if 0 <= lo <= 0.05 * hi
            else (_nice(lo * 0.5, up=False, digits=1) if lo > 0 else _nice(lo * 1.5, up=False, digits=2))
        )
        upper = _nice(hi * 1.25, up=True)
        exps.append(
            _expectation("expect_column_values_to_be_in_type_list", E, column=column, type_list=NUMERIC_TYPES)
        )
        exps.append(
            _expectation(
                "expect_column_values_to_be_between",
                E,
                column=column,
                min_value=lower,
                max_value=upper,
                notes=f"profiled range {lo:g}..{hi:g}, widened",
            )
        )
        null_share = float(values.isna().mean())
        if null_share == 0:
            exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        else:
            hard = math.floor(min(0.95, 1 - 2 * null_share) * 100) / 100
            soft = math.floor(min(0.98, 1 - 1.5 * null_share) * 100) / 100
            note = f"{null_share:.2%} missing in the profile"
            exps.append(
                _expectation("expect_column_values_to_not_be_null", W, column=column, mostly=soft, notes=note)
            )
            exps.append(
                _expectation("expect_column_values_to_not_be_null", E, column=column, mostly=hard, notes=note)
            )
        mean, std = float(values.mean()), float(values.std())
        exps.append(
            _expectation(
                "expect_column_mean_to_be_between",
                W,
                column=column,
                min_value=_nice(max(mean - 0.5 * std, lo), up=False),
                max_value=_nice(mean + 0.5 * std, up=True),
                notes=f"profiled mean {mean:.4g} +/- half a standard deviation ({std:.4g}): a soft shift alarm",
            )
        )
        quantiles = [0.1, 0.5, 0.9]
        observed = [float(q) for q in values.quantile(quantiles)]
        spread = max(std, 1e-9)
        exps.append(
            _expectation(
                "expect_column_quantile_values_to_be_between",
                W,
                column=column,
                quantile_ranges={
                    "quantiles": quantiles,
                    "value_ranges": [
                        [_nice(max(q - 0.5 * spread, lo), up=False), _nice(q + 0.5 * spread, up=True)]
                        for q in observed
                    ],
                },
                notes="profiled deciles and median +/- half a standard deviation: a soft shape alarm",
            )
        )
    for column in spec.features.binary:
        exps.append(
            _expectation("expect_column_values_to_be_in_type_list", E, column=column, type_list=BINARY_TYPES)
        )
        exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        exps.append(_expectation("expect_column_values_to_be_in_set", E, column=column, value_set=[0, 1]))
    for column in spec.features.categorical:
        seen = sorted(str(v) for v in df[column].dropna().unique())
        exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        exps.append(_expectation("expect_column_values_to_be_in_set", E, column=column, value_set=seen))
        shares = df[column].dropna().astype(str).value_counts(normalize=True).reindex(seen, fill_value=0.0)
        exps.append(
            _expectation(
                "expect_column_kl_divergence_to_be_less_than",
                W,
                column=column,
                partition_object={"values": seen, "weights": [float(w) for w in shares]},
                threshold=0.1,
                notes="category frequencies of the profile; KL divergence above 0.1 is a soft shift alarm",
            )
        )

    gx = _import_gx()
    suite = gx.ExpectationSuite(
        name=spec.name,
        expectations=exps,
        meta={
            "pipeline": spec.name,
            "drafted_by": "ml_lifecycle.validation.draft_suite_from_frame",
            "profiled_rows": len(df),
            "severity": "meta.severity per expectation: 'error' blocks the batch, 'warn' is reported only",
        },
    )
    if len(suite.expectations) != len(exps):  # GX drops invalid configurations with a log line only
        raise ValueError(f"GX refused {len(exps) - len(suite.expectations)} drafted expectation(s)")
    drafted: dict[str, Any] = suite.to_json_dict()
    return drafted


def profile_partition(spec: PipelineSpec, lake: Lake, ds: str, *, out: Path | None = None) -> dict[str, Any]:
    """Draft a suite from a day's validated partition (or its raw current version) and write it to ``out``.

    The draft is a starting point for review, never used as is: it lands next to the committed suite
    (``<pipeline>.draft.json``) unless ``out`` says otherwise.
    """
    import pandas as pd

    from ml_lifecycle.ingest import read_raw_features
    from ml_lifecycle.lake import PartitionNotFound

    try:
        frame = pd.read_parquet(lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE)
        zone = "validated"
    except PartitionNotFound:
        frame, _ = read_raw_features(spec, lake, ds)  # raises PartitionNotFound naming the raw partition
        zone = "raw"
    drafted = draft_suite_from_frame(spec, frame)
    target = Path(out) if out is not None else spec.expectations_path.with_suffix(".draft.json")
    write_text(target, json.dumps(drafted, indent=2) + "\n")
    return {"zone": zone, "rows": len(frame), "expectations": len(drafted["expectations"]), "path": str(target)}
