"""The daily drift check: a validated partition (with its scores) against the champion's training sample.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ml_lifecycle.contracts import DriftSummary, ModelRef
from ml_lifecycle.exceptions import NoChampion
from ml_lifecycle.lake import (
    DRIFT_HTML,
    INPUTS_KEY,
    PREDICTIONS_FILE,
    VALIDATED_FILE,
    Lake,
    as_ds,
    fingerprint_of,
    read_report,
)
from ml_lifecycle.monitoring.drift import check_drift
from ml_lifecycle.registry import champion_version
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import REFERENCE_ARTIFACT


def check_partition_drift(spec: PipelineSpec, lake: Lake, ds: str, target: TrackingTarget) -> DriftSummary:
    """Compare a validated partition (with its scores, when scored) to the champion's training sample."""
    import mlflow
    import pandas as pd


    ds = as_ds(ds)
    champion = champion_version(spec, target)
    if champion is None:
        raise NoChampion(f"{spec.model.registered_name} has no champion: there is no reference data to compare with")
    current = pd.read_parquet(lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE)
    predictions = lake.partition_dir("predictions", spec.name, ds)
    score_column = None
    if lake.is_complete(predictions):
        scores = pd.read_parquet(predictions / PREDICTIONS_FILE, columns=[spec.id_column, "score"])
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
        outcome.update(read_report(lake, spec.name, "drift", ds))
    return {
        "ds": ds,
        "dataset_drift": bool(outcome["dataset_drift"]),
        "drift_share": round(float(outcome["drift_share"]), 4),
        "drifted_columns": list(outcome["drifted_columns"]),
        "score_drift": None if outcome["score_drift"] is None else bool(outcome["score_drift"]["drifted"]),
        "psi_flagged": list(outcome["psi_flagged"]),
        "reference_version": champion["version"],
        "report_path": str(folder / DRIFT_HTML),
    }


def _log_monitoring_run(
    spec: PipelineSpec, target: TrackingTarget, ds: str, champion: ModelRef, outcome: dict[str, Any], folder: Path
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
