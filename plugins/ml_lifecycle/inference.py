"""Batch inference: score a validated partition with the champion, in record batches, published atomically."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_lifecycle.evaluation import champion_version
from ml_lifecycle.lake import Lake, as_ds
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import model_input

BATCH_ROWS = 100_000


class NoChampion(LookupError):
    """No model version holds the ``champion`` alias yet: there is nothing to score with."""


def score_partition(spec: PipelineSpec, lake: Lake, ds: str, target: TrackingTarget) -> dict[str, Any]:
    import mlflow
    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = as_ds(ds)
    source = lake.require_partition("validated", spec.name, ds) / "data.parquet"
    champion = champion_version(spec, target)
    if champion is None:
        raise NoChampion(f"{spec.model.registered_name} has no 'champion' alias yet; train and promote a model first")
    name, version = spec.model.registered_name, champion["version"]
    model = mlflow.sklearn.load_model(f"models:/{name}/{version}")
    scored_at = datetime.now(UTC)
    input_version = lake.partition_metadata("validated", spec.name, ds).get("data_version")

    def write(staging: Path) -> dict[str, Any]:
        rows = positives = 0
        reader = pq.ParquetFile(source)
        writer = None
        try:
            for batch in reader.iter_batches(batch_size=BATCH_ROWS):
                frame = batch.to_pandas()
                scores = model.predict_proba(model_input(spec, frame))[:, 1]
                decisions = scores >= spec.decision_threshold
                table = pa.table(
                    {
                        spec.id_column: pa.array(frame[spec.id_column].astype(str)),
                        spec.event_date_column: pa.array(frame[spec.event_date_column].astype(str)),
                        "score": pa.array(scores, pa.float64()),
                        "decision": pa.array(decisions),
                        "model_name": pa.array([name] * len(frame)),
                        "model_version": pa.array([version] * len(frame)),
                        "model_run_id": pa.array([champion["run_id"]] * len(frame)),
                        "scored_at": pa.array([scored_at] * len(frame), pa.timestamp("us", tz="UTC")),
                    },
                    schema=prediction_schema(spec),
                )
                if writer is None:
                    writer = pq.ParquetWriter(staging / "predictions.parquet", table.schema)
                writer.write_table(table)
                rows += len(frame)
                positives += int(decisions.sum())
            if writer is None:  # an empty partition still gets an (empty) predictions file
                writer = pq.ParquetWriter(staging / "predictions.parquet", prediction_schema(spec))
        finally:
            if writer is not None:
                writer.close()
        return {"rows": rows, "positives": positives, "model_version": version, "input_data_version": input_version}

    final = lake.publish_partition("predictions", spec.name, ds, write)
    meta = lake.partition_metadata("predictions", spec.name, ds)
    return {
        "ds": ds,
        "rows": meta["rows"],
        "predicted_positive": meta["positives"],
        "model_name": name,
        "model_version": version,
        "model_run_id": champion["run_id"],
        "predictions_path": str(final / "predictions.parquet"),
    }


def prediction_schema(spec: PipelineSpec) -> Any:
    import pyarrow as pa

    return pa.schema([
        (spec.id_column, pa.string()),
        (spec.event_date_column, pa.string()),
        ("score", pa.float64()),
        ("decision", pa.bool_()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("model_run_id", pa.string()),
        ("scored_at", pa.timestamp("us", tz="UTC")),
    ])
