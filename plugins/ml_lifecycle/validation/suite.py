"""Expectation suites: versioned JSON files next to the pipeline spec, each expectation with a severity.

Severity lives in each expectation's ``meta`` (``{"severity": "error" | "warn"}``): ``error`` blocks the
batch, ``warn`` is reported only. GX is imported here, quietly, on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import great_expectations as gx

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

# dtypes accepted for numeric and binary columns as a batch arrives (before typed_frame casts them).
NUMERIC_TYPES = ["int8", "int16", "int32", "int64", "float32", "float64", "Int64Dtype", "Float64Dtype"]

BINARY_TYPES = ["int8", "int16", "int32", "int64", "Int64Dtype", "bool", "BooleanDtype"]


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


def _severity(config: dict[str, Any]) -> str:
    meta_severity = (config.get("meta") or {}).get("severity")
    if meta_severity is not None:
        return _SEVERITY_ALIASES.get(str(meta_severity).lower(), SEVERITY_ERROR)
    return _SEVERITY_ALIASES.get(str(config.get("severity", "critical")).lower(), SEVERITY_ERROR)


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
