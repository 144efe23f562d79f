"""Evaluation: the candidate and the current champion, scored on the same holdout rows.

Besides the overall metrics it measures what the gate (:mod:`ml_lifecycle.registry.gate`) needs to decide fairly:
- a paired bootstrap of (candidate - champion) on the primary metric, overall and per slice value:
  both models are scored on the *same* resampled rows, so the interval reflects the difference itself;
- a calibration curve (JSON bins), the prediction latency for 10k rows with the model loaded from its
  registry URI, and the size of the logged model artifact.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import Latency, SliceResult
from ml_lifecycle.lake import (
    CALIBRATION_JSON,
    EVALUATION_JSON,
    Lake,
    publish_folder,
    storage_options_for,
    write_json,
)
from ml_lifecycle.metrics import (
    bootstrap_weights,
    calibration_curve,
    classification_metrics,
    paired_difference,
)
from ml_lifecycle.registry.aliases import champion_version
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import LABEL, model_input

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

LATENCY_ROWS = 10_000


def slice_values(spec: PipelineSpec, holdout: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    """(column, value, row mask) for every value of every slice column in the spec."""
    found = []
    for column in spec.slices:
        values = holdout[column].astype(str).where(holdout[column].notna(), "<missing>")
        for value in sorted(values.unique()):
            found.append((column, _slice_label(value), (values == value).to_numpy()))
    return found


def _slice_label(value: str) -> str:
    return value[:-2] if value.endswith(".0") else value  # binary features are floats: "1.0" -> "1"


def slice_metrics(spec: PipelineSpec, holdout: pd.DataFrame, labels: np.ndarray, candidate: np.ndarray,
                  champion: np.ndarray | None, weights: np.ndarray) -> list[SliceResult]:
    primary = spec.gate.primary_metric
    rows: list[SliceResult] = []
    for column, value, mask in slice_values(spec, holdout):
        y = labels[mask]
        entry: SliceResult = {"slice": f"{column}={value}", "column": column, "value": value,
                                 "rows": int(mask.sum()), "positives": int(y.sum())}
        if 0 < y.sum() < len(y):
            entry["candidate"] = classification_metrics(y, candidate[mask], spec.decision_threshold)
            if champion is not None:
                entry["champion"] = classification_metrics(y, champion[mask], spec.decision_threshold)
                entry["difference"] = paired_difference(
                    primary, y, candidate[mask], champion[mask], weights[:, mask], spec.decision_threshold,
                    spec.gate.confidence)
        else:
            entry["note"] = "one class only: metrics undefined"
        rows.append(entry)
    return rows


def prediction_latency(model_uri: str, features: pd.DataFrame, rows: int = LATENCY_ROWS) -> Latency:
    """Load the model through its registry URI as pyfunc and time predict on ``rows`` rows (best of 3)."""
    import mlflow

    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(model_uri)
    load_seconds = time.perf_counter() - started
    batch = features.sample(rows, replace=len(features) < rows, random_state=0).reset_index(drop=True)
    model.predict(batch.head(10))  # warm-up
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        model.predict(batch)
        timings.append(time.perf_counter() - started)
    return {"rows": rows, "predict_ms": round(min(timings) * 1000, 1), "load_ms": round(load_seconds * 1000, 1),
            "model_uri": model_uri}


def model_size_bytes(target: TrackingTarget, name: str, version: str) -> int:
    """Bytes of the logged model artifact (downloaded first when it is not on a local path)."""
    import tempfile
    from urllib.parse import unquote, urlparse

    import mlflow

    client = target.activate()
    uri = client.get_model_version_download_uri(name, version)
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return _folder_bytes(Path(unquote(parsed.path)))
    with tempfile.TemporaryDirectory() as tmp:
        return _folder_bytes(Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)))


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def evaluate_candidate(
    spec: PipelineSpec,
    target: TrackingTarget,
    *,
    candidate_version: str,
    holdout_path: str,
    report_dir: Path | None = None,
    lake: Lake | None = None,
) -> dict[str, Any]:
    """Holdout metrics of the candidate and of the champion (if any), logged to the candidate's run.

    ``report_dir`` (a location of ``lake`` when given, else a local folder) receives the report atomically.
    """
    import mlflow
    import numpy as np
    import pandas as pd

    client = target.activate()
    holdout = pd.read_parquet(holdout_path, storage_options=storage_options_for(holdout_path))
    features = model_input(spec, holdout)
    labels = holdout[LABEL].to_numpy()
    name = spec.model.registered_name
    threshold = spec.decision_threshold

    started = time.perf_counter()
    candidate_model = mlflow.sklearn.load_model(f"models:/{name}/{candidate_version}")
    candidate_scores = candidate_model.predict_proba(features)[:, 1]
    candidate = classification_metrics(labels, candidate_scores, threshold)
    score_seconds = time.perf_counter() - started

    champion = champion_version(spec, target)
    champion_metrics = None
    champion_scores = None
    if champion is not None and champion["version"] != str(candidate_version):
        # Load the version resolved above, not the alias again: if ``champion`` moved in between, the
        # metrics would belong to another model than the reported champion_version.
        champion_model = mlflow.sklearn.load_model(f"models:/{name}/{champion['version']}")
        champion_scores = champion_model.predict_proba(features)[:, 1]
        champion_metrics = classification_metrics(labels, champion_scores, threshold)

    # One set of resampled rows for every comparison, seeded: the same inputs give the same interval.
    weights = bootstrap_weights(len(labels), spec.gate.bootstrap_resamples, spec.model.random_seed)
    difference = None
    if champion_scores is not None:
        difference = paired_difference(spec.gate.primary_metric, labels, candidate_scores, champion_scores,
                                       weights, threshold, spec.gate.confidence)
    slices = slice_metrics(spec, holdout, labels, candidate_scores, champion_scores, weights)
    calibration = calibration_curve(labels, candidate_scores)
    latency = prediction_latency(f"models:/{name}/{candidate_version}", features)
    size = model_size_bytes(target, name, str(candidate_version))

    run_id = client.get_model_version(name, str(candidate_version)).run_id
    assert run_id is not None
    for metric, value in candidate.items():
        client.log_metric(run_id, f"holdout_{metric}", float(value))  # type: ignore[arg-type]
    if champion_metrics:
        for metric, value in champion_metrics.items():
            client.log_metric(run_id, f"champion_holdout_{metric}", float(value))  # type: ignore[arg-type]
    client.log_metric(run_id, "latency_ms_10k", latency["predict_ms"])
    client.log_metric(run_id, "model_bytes", float(size))
    if difference:
        client.log_metric(run_id, f"delta_{spec.gate.primary_metric}", difference["delta"])

    result = {
        "model_name": name,
        "candidate_version": str(candidate_version),
        "candidate": candidate,
        "champion_version": champion["version"] if champion else None,
        "champion": champion_metrics,
        "primary_metric": spec.gate.primary_metric,
        "difference": difference,
        "slices": slices,
        "calibration": calibration,
        "latency": latency,
        "model_bytes": size,
        "holdout_rows": len(holdout),
        "holdout_positive_rate": round(float(np.mean(labels)), 4),
        "load_and_score_seconds": round(score_seconds, 3),
    }
    if report_dir is not None:
        publish = lake.publish if lake is not None else publish_folder
        folder = publish(report_dir, lambda staging: _write_report(staging, result))
        client.log_artifact(run_id, str(folder / EVALUATION_JSON), artifact_path="evaluation")
        client.log_artifact(run_id, str(folder / CALIBRATION_JSON), artifact_path="evaluation")
        result["report_path"] = str(folder / EVALUATION_JSON)
    return result


def _write_report(staging: Path, result: dict[str, Any]) -> dict[str, Any]:
    write_json(staging / EVALUATION_JSON, result)
    write_json(staging / CALIBRATION_JSON, {"model_version": result["candidate_version"],
                                              "bins": result["calibration"]})
    return {"candidate_version": result["candidate_version"], "champion_version": result["champion_version"]}
