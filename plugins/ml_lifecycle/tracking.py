"""Where MLflow is, as plain values the core can use without Airflow.

Operators build a :class:`TrackingTarget` from the ``mlflow_default`` connection (see hooks/mlflow.py);
the CLI and tests build one from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class TrackingTarget:
    tracking_uri: str
    registry_uri: str | None = None
    artifact_location: str | None = None  # base folder/URI for new experiments' artifacts
    ui_url: str | None = None  # where people open the MLflow UI, for links from Airflow

    @classmethod
    def from_env(cls) -> TrackingTarget:
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            raise RuntimeError("MLFLOW_TRACKING_URI is not set and no mlflow_default connection was given")
        return cls(
            tracking_uri=uri,
            registry_uri=os.environ.get("MLFLOW_REGISTRY_URI"),
            artifact_location=os.environ.get("ML_LIFECYCLE_MLFLOW_ARTIFACTS"),
            ui_url=os.environ.get("ML_LIFECYCLE_MLFLOW_UI_URL"),
        )

    def activate(self) -> MlflowClient:
        """Point this process's MLflow at the target and return a client for it."""
        import logging

        import mlflow

        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri or self.tracking_uri)
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri or self.tracking_uri)

    def experiment_id(self, name: str) -> str:
        """The id of an experiment, created with its artifacts under ``artifact_location`` if new."""
        client = self.activate()
        existing = client.get_experiment_by_name(name)
        if existing is not None:
            return str(existing.experiment_id)
        location = f"{self.artifact_location.rstrip('/')}/{name}" if self.artifact_location else None
        return str(client.create_experiment(name, artifact_location=location))

    def run_url(self, experiment_id: str, run_id: str) -> str | None:
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"

    def model_version_url(self, name: str, version: str | int) -> str | None:
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/models/{name}/versions/{version}"
