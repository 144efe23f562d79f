"""Validation of a day's batch: run the suite, write the report, then publish ``validated`` or quarantine.

A batch that passes every expectation of severity ``error`` becomes the typed ``validated`` partition,
the only input training and scoring read. A batch that fails one is kept, as it arrived, in
``quarantine`` with the reasons, and the step raises :class:`~ml_lifecycle.exceptions.DataValidationError`.
Expectations of severity ``warn`` are reported but never block. A JSON and an HTML report are written
either way, before anything else, so a failure can always be explained.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import ValidationResult
from ml_lifecycle.exceptions import DataValidationError
from ml_lifecycle.lake import (
    INPUTS_KEY,
    REASON_FILE,
    REJECTED_FILE,
    VALIDATED_FILE,
    VALIDATION_HTML,
    VALIDATION_JSON,
    Lake,
    fingerprint_of,
    write_json,
)
from ml_lifecycle.validation.gx_run import ValidationOutcome, run_suite
from ml_lifecycle.validation.report import render_html
from ml_lifecycle.validation.results import describe_failures
from ml_lifecycle.validation.rows import invalid_rows, typed_frame
from ml_lifecycle.validation.suite import _expectation, suite_sha256

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec

log = logging.getLogger(__name__)


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


def _summary(status: str, *, rows: int, rows_validated: int, rows_rejected: int, warnings: int,
             report_dir: Path, validated_dir: Path, data_version: str,
             relative: dict[str, Any] | None) -> ValidationResult:
    """What ``validate_partition`` returns for a batch that passed (a small, JSON-able XCom)."""
    return {
        "status": status,
        "rows": rows,
        "rows_validated": rows_validated,
        "rows_rejected": rows_rejected,
        "warnings": warnings,
        "report_path": str(report_dir / VALIDATION_HTML),
        "report_json": str(report_dir / VALIDATION_JSON),
        "validated_path": str(validated_dir / VALIDATED_FILE),
        "data_version": data_version,
        "row_count_bounds": [relative["kwargs"]["min_value"], relative["kwargs"]["max_value"]] if relative else None,
    }


def _unchanged_validation(spec: PipelineSpec, lake: Lake, ds: str, inputs: str,
                          relative: dict[str, Any] | None) -> ValidationResult | None:
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
    report_html = lake.report_dir(spec.name, "validation", ds) / VALIDATION_HTML
    raise DataValidationError(
        f"{spec.name} ds={ds}: {metadata['batch_verdict']} in {quarantine_dir}; report: {report_html} "
        f"(as first judged at {metadata.get('quarantined_at')}: same data, suite and spec)",
        report_path=str(report_html),
        failed=list(reason.get("failed", [])),
        quarantine_path=str(quarantine_dir),
    )


def validate_partition(
    spec: PipelineSpec, lake: Lake, ds: str, df: pd.DataFrame, *, data_version: str
) -> ValidationResult:
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
    report_json = report_dir / VALIDATION_JSON
    report_html = report_dir / VALIDATION_HTML
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
