"""The retraining decision of a day, from what the lake shows, kept with its reason whether it triggers or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from ml_lifecycle.contracts import RetrainingRecord
from ml_lifecycle.lake import (
    DECISION_JSON,
    Lake,
    as_ds,
    drift_verdicts,
    fingerprint_of,
    read_report,
    write_json,
)
from ml_lifecycle.monitoring.performance import latest_performance
from ml_lifecycle.monitoring.retraining import decide_retraining
from ml_lifecycle.spec import PipelineSpec


def drift_history(spec: PipelineSpec, lake: Lake, *, up_to: str) -> dict[str, bool]:
    """date -> dataset drift verdict, for every drift report up to ``up_to``."""
    return {day: bool(report["dataset_drift"]) for day, report in drift_verdicts(lake, spec.name, up_to=up_to).items()}


def decide_and_record_retraining(spec: PipelineSpec, lake: Lake, ds: str) -> RetrainingRecord:
    """Apply the retraining policy for ``ds`` and keep the decision, trigger or not, with its reason.

    Inputs, all read from the lake as of ``ds``: the drift verdicts (reports/drift), the earlier
    requests (reports/retraining decisions with retrain=true), the training runs (training/
    partitions) and the newest realized-performance report (reports/performance), of which the rolling
    window's rows scored by the most recent model version are judged against the performance floor.
    The record (reports/<p>/retraining/ds=<ds>/decision.json) holds the decision, its reason, its
    checks and these inputs.
    """

    ds = as_ds(ds)
    earlier_requests = [
        day for day in lake.reports(spec.name, "retraining")
        if day < ds and _load_decision(lake, spec, day).get("retrain")
    ]
    trainings = [day for day in lake.partitions("training", spec.name) if day <= ds]
    realized = realized_window(spec, lake, up_to=ds)
    decision = decide_retraining(
        ds=ds,
        drift_history=drift_history(spec, lake, up_to=ds),
        request_history=earlier_requests,
        training_history=trainings,
        realized=realized,
        min_rows=spec.monitoring.min_rows,
        policy=spec.retraining,
    )
    record = {
        "ds": ds,
        **decision.to_dict(),
        "inputs": {"requests": earlier_requests, "trainings": trainings, "realized": realized},
    }
    inputs = fingerprint_of({"record": record, "spec_hash": spec.spec_hash})
    record["decided_at"] = datetime.now(UTC).isoformat()

    def write(staging: Path) -> dict[str, Any]:
        write_json(staging / DECISION_JSON, record)
        return {"retrain": record["retrain"]}

    # The same decision from the same inputs is not written again: the record keeps its first decided_at.
    lake.publish_report(spec.name, "retraining", ds, write, inputs=inputs)
    first_decided_at = read_report(lake, spec.name, "retraining", ds)["decided_at"]
    return cast(RetrainingRecord, {**record, "decided_at": first_decided_at,
                                   "recorded_before": first_decided_at != record["decided_at"]})


def realized_window(spec: PipelineSpec, lake: Lake, *, up_to: str) -> dict[str, Any] | None:
    """Rolling realized performance of the latest scoring model version, from the newest report.

    Only that version's rows count: after a retraining the old model's poor days must not keep
    triggering requests for the new one.
    """

    report = latest_performance(spec, lake, up_to=up_to)
    if report is None or not report["by_event_date"]:
        return None
    latest_day = max(report["by_event_date"])
    versions = sorted(report["by_event_date"][latest_day]["by_version"], key=lambda v: (len(v), v))
    if not versions or versions[-1] not in report["window"]["by_version"]:
        return None
    version = versions[-1]
    return {"report_ds": report["ds"], "model_version": version, "from": report["window"]["from"],
            "to": report["window"]["to"], **report["window"]["by_version"][version]}


def _load_decision(lake: Lake, spec: PipelineSpec, day: str) -> dict[str, Any]:
    return read_report(lake, spec.name, "retraining", day)
