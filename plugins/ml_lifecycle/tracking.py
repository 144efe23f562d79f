"""Where MLflow is, as plain values the core can use without Airflow.

Operators build a :class:`TrackingTarget` from the ``mlflow_default`` connection (see hooks/mlflow.py);
the CLI and tests build one from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class TrackingTarget:
    tracking_uri: str
    registry_uri: str | None = None
    artifact_location: str | None = None  # base folder/URI for new experiments' artifacts
    ui_url: str | None = None  # where people open the MLflow UI, for links from Airflow
    # Basic auth of an MLflow server (from the connection). MLflow reads them from the environment only,
    # so :meth:`credentials` sets them for the duration of a call and puts the environment back after.
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

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

    @contextmanager
    def credentials(self) -> Iterator[None]:
        """The server credentials in this process's environment while the block runs, and never after."""
        if self.username is None:
            yield
            return
        names = {"MLFLOW_TRACKING_USERNAME": self.username, "MLFLOW_TRACKING_PASSWORD": self.password or ""}
        saved = {name: os.environ.get(name) for name in names}
        os.environ.update(names)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def secret_environment(self) -> dict[str, str]:
        """The credentials as environment variables, for a process of its own (a training container)."""
        if self.username is None:
            return {}
        return {"MLFLOW_TRACKING_USERNAME": self.username, "MLFLOW_TRACKING_PASSWORD": self.password or ""}

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
