"""GX's raw results as rows a person reads: expectation, column, severity, what was observed.
"""

from __future__ import annotations

import json
from typing import Any

from ml_lifecycle.validation.suite import _severity

MAX_NAMED_FAILURES = 5


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    return str(value)


def _config_key(config: dict[str, Any]) -> str:
    kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
    return json.dumps([config.get("type"), kwargs], sort_keys=True, default=str)


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
