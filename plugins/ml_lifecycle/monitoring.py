"""Monitoring: drift of a day's data against the champion's training sample, and the retraining decision."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_lifecycle.evaluation import champion_version
from ml_lifecycle.lake import INPUTS_KEY, Lake, as_ds, fingerprint_of, write_json
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import REFERENCE_ARTIFACT

DRIFT_JSON = "drift_metrics.json"
DECISION_JSON = "decision.json"


def check_partition_drift(spec: PipelineSpec, lake: Lake, ds: str, target: TrackingTarget) -> dict[str, Any]:
    """Compare a validated partition (with its scores, when scored) to the champion's training sample."""
    import mlflow
    import pandas as pd

    from ml_lifecycle.drift import check_drift
    from ml_lifecycle.inference import NoChampion

    ds = as_ds(ds)
    champion = champion_version(spec, target)
    if champion is None:
        raise NoChampion(f"{spec.model.registered_name} has no champion: there is no reference data to compare with")
    current = pd.read_parquet(lake.require_partition("validated", spec.name, ds) / "data.parquet")
    predictions = lake.partition_dir("predictions", spec.name, ds)
    score_column = None
    if lake.is_complete(predictions):
        scores = pd.read_parquet(predictions / "predictions.parquet", columns=[spec.id_column, "score"])
        current = current.merge(scores, on=spec.id_column, how="left")
        score_column = "score"
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=champion["run_id"], artifact_path=REFERENCE_ARTIFACT, dst_path=tmp
        )
        reference = pd.read_parquet(local)

    outcome: dict[str, Any] = {}

    def write(staging: Path) -> dict[str, Any]:
        result = check_drift(spec, reference, current, out_dir=staging, score_column=score_column)
        outcome.update(result.to_dict())
        return {"dataset_drift": result.dataset_drift, "model_version": champion["version"]}

    # The same day's data, scores and reference give the same verdicts: a re-run keeps the report it
    # published (and logs no second monitoring run).
    inputs = fingerprint_of({
        "data_version": lake.partition_metadata("validated", spec.name, ds).get("data_version"),
        "predictions": lake.partition_metadata("predictions", spec.name, ds).get(INPUTS_KEY) if score_column else None,
        "reference_run_id": champion["run_id"],
        "spec_hash": spec.spec_hash,
    })
    folder = lake.publish_report(spec.name, "drift", ds, write, inputs=inputs)
    if outcome:
        _log_monitoring_run(spec, target, ds, champion, outcome, folder)
    else:
        outcome.update(json.loads((folder / "drift_metrics.json").read_text()))
    return {
        "ds": ds,
        "dataset_drift": bool(outcome["dataset_drift"]),
        "drift_share": round(float(outcome["drift_share"]), 4),
        "drifted_columns": list(outcome["drifted_columns"]),
        "score_drift": None if outcome["score_drift"] is None else bool(outcome["score_drift"]["drifted"]),
        "psi_flagged": list(outcome["psi_flagged"]),
        "reference_version": champion["version"],
        "report_path": str(folder / "drift_report.html"),
    }


def _log_monitoring_run(
    spec: PipelineSpec, target: TrackingTarget, ds: str, champion: dict[str, str], outcome: dict[str, Any], folder: Path
) -> None:
    import mlflow

    experiment_id = target.experiment_id(f"{spec.name}-monitoring")
    tags = {"pipeline": spec.name, "kind": "drift", "ds": ds, "model_version": champion["version"],
            "model_name": spec.model.registered_name}
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"drift-{ds}", tags=tags):
        mlflow.log_metrics({
            "dataset_drift": float(outcome["dataset_drift"]),
            "drift_share": float(outcome["drift_share"]),
            "drifted_columns": float(len(outcome["drifted_columns"])),
        })
        mlflow.log_artifacts(str(folder), artifact_path="drift")


def drift_history(spec: PipelineSpec, lake: Lake, *, up_to: str) -> dict[str, bool]:
    history = {}
    for day in lake.reports(spec.name, "drift"):
        if day <= up_to:
            payload = json.loads((lake.report_dir(spec.name, "drift", day) / DRIFT_JSON).read_text())
            history[day] = bool(payload["dataset_drift"])
    return history


def decide_and_record_retraining(spec: PipelineSpec, lake: Lake, ds: str) -> dict[str, Any]:
    """Apply the retraining policy for ``ds`` and keep the decision, trigger or not, with its reason.

    Inputs, all read from the lake as of ``ds``: the drift verdicts (reports/drift), the earlier
    requests (reports/retraining decisions with retrain=true), the training runs (training/
    partitions) and the newest realized-performance report (reports/performance), of which the rolling
    window's rows scored by the most recent model version are judged against the performance floor.
    The record (reports/<p>/retraining/ds=<ds>/decision.json) holds the decision, its reason, its
    checks and these inputs.
    """
    from ml_lifecycle.retraining import decide_retraining

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
    folder = lake.publish_report(spec.name, "retraining", ds, write, inputs=inputs)
    first_decided_at = json.loads((folder / DECISION_JSON).read_text())["decided_at"]
    return {**record, "decided_at": first_decided_at, "recorded_before": first_decided_at != record["decided_at"]}


def realized_window(spec: PipelineSpec, lake: Lake, *, up_to: str) -> dict[str, Any] | None:
    """Rolling realized performance of the latest scoring model version, from the newest report.

    Only that version's rows count: after a retraining the old model's poor days must not keep
    triggering requests for the new one.
    """
    from ml_lifecycle.performance import latest_performance

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
    result: dict[str, Any] = json.loads((lake.report_dir(spec.name, "retraining", day) / DECISION_JSON).read_text())
    return result
