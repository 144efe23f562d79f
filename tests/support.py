"""Shared test set-up: a lake filled the way the daily DAG fills it, without Airflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ml_lifecycle.exceptions import DataValidationError
from ml_lifecycle.ingest import ingest_landing, read_raw_features
from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.validation import validate_partition
from ml_lifecycle_dev.simulate import SimulatedDay, simulate


def validated_lake(
    spec: PipelineSpec, root: Path | str, *, start: date, days: int, label_delay_days: int, seed: int,
    corrupt_days: frozenset[int] = frozenset(),
) -> tuple[Lake, list[SimulatedDay]]:
    """Simulate ``days`` landing drops, then ingest and validate each; corrupt days end in quarantine."""
    lake = Lake(root)
    landed = simulate(spec, lake, start=start, days=days, label_delay_days=label_delay_days,
                      corrupt_days=corrupt_days, seed=seed)
    for day in landed:
        ingest_landing(spec, lake, day.ds)
        frame, version = read_raw_features(spec, lake, day.ds)
        try:
            validate_partition(spec, lake, day.ds, frame, data_version=version)
        except DataValidationError:
            if not day.corrupt:
                raise
    return lake, landed


def local_tracking(root: Path) -> TrackingTarget:
    """A real MLflow store of its own: SQLite under ``root``, artifacts beside it."""
    return TrackingTarget(tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=(root / "artifacts").as_uri())
