"""Evaluation: the candidate and the current champion, scored on the same holdout rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import publish_folder, write_json
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import LABEL, model_input

if TYPE_CHECKING:
    import numpy as np


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        f1_score,
        log_loss,
        roc_auc_score,
    )

    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "f1": float(f1_score(labels, scores >= threshold, zero_division=0)),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
    }


def champion_version(spec: PipelineSpec, target: TrackingTarget) -> dict[str, str] | None:
    """The version behind the ``champion`` alias, or None before the first promotion."""
    from mlflow.exceptions import MlflowException

    client = target.activate()
    try:
        mv = client.get_model_version_by_alias(spec.model.registered_name, "champion")
    except MlflowException:
        return None
    return {"version": str(mv.version), "run_id": str(mv.run_id)}


def evaluate_candidate(
    spec: PipelineSpec,
    target: TrackingTarget,
    *,
    candidate_version: str,
    holdout_path: str,
    report_dir: Path | None = None,
) -> dict[str, Any]:
    """Holdout metrics of the candidate and of the champion (if any), logged to the candidate's run."""
    import mlflow
    import pandas as pd

    client = target.activate()
    holdout = pd.read_parquet(holdout_path)
    features = model_input(spec, holdout)
    labels = holdout[LABEL].to_numpy()
    name = spec.model.registered_name

    started = time.perf_counter()
    candidate_model = mlflow.sklearn.load_model(f"models:/{name}/{candidate_version}")
    candidate_scores = candidate_model.predict_proba(features)[:, 1]
    candidate = classification_metrics(labels, candidate_scores, spec.decision_threshold)
    score_seconds = time.perf_counter() - started

    champion = champion_version(spec, target)
    champion_metrics = None
    if champion is not None and champion["version"] != str(candidate_version):
        # Load the version resolved above, not the alias again: if ``champion`` moved in between, the
        # metrics would belong to another model than the reported champion_version.
        champion_model = mlflow.sklearn.load_model(f"models:/{name}/{champion['version']}")
        champion_metrics = classification_metrics(
            labels, champion_model.predict_proba(features)[:, 1], spec.decision_threshold
        )

    run_id = client.get_model_version(name, str(candidate_version)).run_id
    assert run_id is not None
    for metric, value in candidate.items():
        client.log_metric(run_id, f"holdout_{metric}", value)
    if champion_metrics:
        for metric, value in champion_metrics.items():
            client.log_metric(run_id, f"champion_holdout_{metric}", value)

    result = {
        "model_name": name,
        "candidate_version": str(candidate_version),
        "candidate": candidate,
        "champion_version": champion["version"] if champion else None,
        "champion": champion_metrics,
        "holdout_rows": len(holdout),
        "holdout_positive_rate": round(float(labels.mean()), 4),
        "load_and_score_seconds": round(score_seconds, 3),
    }
    if report_dir is not None:
        publish_folder(report_dir, lambda staging: _write_report(staging, result))
        client.log_artifact(run_id, str(report_dir / "evaluation.json"), artifact_path="evaluation")
        result["report_path"] = str(report_dir / "evaluation.json")
    return result


def _write_report(staging: Path, result: dict[str, Any]) -> dict[str, Any]:
    write_json(staging / "evaluation.json", result)
    return {"candidate_version": result["candidate_version"], "champion_version": result["champion_version"]}
