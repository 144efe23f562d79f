"""Reading the reports the stages publish: one reader per report file, used by the stages, the UI and the demo.

Each published report kind (``drift``, ``performance``, ``retraining``, ``evaluation``) has one main JSON
file per date (see :mod:`ml_lifecycle.lake.layout`); the readers resolve the date's published copy (on
object storage, through its marker) and return the parsed JSON. A report that is not published raises
:class:`~ml_lifecycle.exceptions.PartitionNotFound` naming it; ``latest_*`` return None when there is none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.exceptions import PartitionNotFound
from ml_lifecycle.lake.layout import (
    DECISION_JSON,
    DRIFT_HTML,
    DRIFT_JSON,
    EVALUATION_JSON,
    PERFORMANCE_JSON,
    REASON_FILE,
    REJECTED_FILE,
    ReportKind,
)

if TYPE_CHECKING:
    from ml_lifecycle.lake.lake import Lake

MAIN_FILES: dict[str, str] = {"drift": DRIFT_JSON, "performance": PERFORMANCE_JSON, "retraining": DECISION_JSON,
                              "evaluation": EVALUATION_JSON}


def report_path(lake: Lake, pipeline: str, kind: ReportKind, ds: str) -> Path:
    """The local copy of a published report's main file (``reports/<p>/<kind>/ds=<ds>/<file>``)."""
    folder = lake.report_dir(pipeline, kind, ds)
    if not lake.is_complete(folder):
        raise PartitionNotFound(f"{kind} report {pipeline} ds={ds} is not published: {lake.location(folder)}")
    return folder / MAIN_FILES[kind]


def read_report(lake: Lake, pipeline: str, kind: ReportKind, ds: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(report_path(lake, pipeline, kind, ds).read_text(encoding="utf-8"))
    return report


def latest_report(lake: Lake, pipeline: str, kind: ReportKind, *, up_to: str | None = None
                  ) -> tuple[str, dict[str, Any]] | None:
    """(date, report) of the newest published report of a kind on or before ``up_to``, or None."""
    days = [day for day in lake.reports(pipeline, kind) if up_to is None or day <= up_to]
    return (days[-1], read_report(lake, pipeline, kind, days[-1])) if days else None


def drift_verdicts(lake: Lake, pipeline: str, *, up_to: str | None = None,
                   since: str | None = None) -> dict[str, dict[str, Any]]:
    """date -> the drift report of that date (``dataset_drift``, ``drift_share``, ``drifted_columns`` ...)."""
    return {day: read_report(lake, pipeline, "drift", day) for day in lake.reports(pipeline, "drift")
            if (up_to is None or day <= up_to) and (since is None or day >= since)}


def drift_html(lake: Lake, pipeline: str, ds: str) -> Path:
    """The local copy of a date's Evidently HTML drift report."""
    return report_path(lake, pipeline, "drift", ds).with_name(DRIFT_HTML)


def quarantine_reason(lake: Lake, pipeline: str, ds: str) -> dict[str, Any] | None:
    """What validation wrote next to a quarantined batch (failed expectations, report paths), or None."""
    path = lake.partition_dir("quarantine", pipeline, ds) / REASON_FILE
    if not path.is_file():
        return None
    reason: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return reason


def quarantined_rows(lake: Lake, pipeline: str, ds: str) -> int:
    """How many rows a published quarantine partition holds (from the Parquet footer)."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(lake.require_partition("quarantine", pipeline, ds) / REJECTED_FILE).metadata.num_rows)
