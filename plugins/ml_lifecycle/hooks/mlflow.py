"""Connection-driven access to the MLflow tracking server and model registry.

The ``mlflow_default`` connection says where MLflow is:
- an MLflow server: ``conn_type=http``, host/port/schema (``https`` by ``extra.scheme``), login/password
  for basic auth (carried by the :class:`TrackingTarget`, whose ``credentials()`` gives them to MLflow
  for the duration of a task's core call only: they never stay in the process environment);
- any other store: ``extra.tracking_uri`` (e.g. ``sqlite:////path/mlflow.db``), optional
  ``extra.registry_uri`` and ``extra.artifact_location``;
- ``extra.ui_url``: where people open the MLflow UI, used for links from Airflow tasks.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from ml_lifecycle.tracking import TrackingTarget


class MlflowHook(BaseHook):
    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "mlflow"
    hook_name = "MLflow"

    def __init__(self, mlflow_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlflow_conn_id = mlflow_conn_id

    def get_target(self) -> TrackingTarget:
        conn = self.get_connection(self.mlflow_conn_id)
        extra = conn.extra_dejson
        uri = extra.get("tracking_uri")
        if not uri:
            if not conn.host:
                raise ValueError(
                    f"connection {self.mlflow_conn_id!r} has neither a host nor extra.tracking_uri"
                )
            scheme = extra.get("scheme", "http")
            port = f":{conn.port}" if conn.port else ""
            path = f"/{conn.schema.strip('/')}" if conn.schema else ""
            uri = f"{scheme}://{conn.host}{port}{path}"
        ui_url = extra.get("ui_url") or (uri if uri.startswith("http") else None)
        return TrackingTarget(
            tracking_uri=uri,
            registry_uri=extra.get("registry_uri"),
            artifact_location=extra.get("artifact_location"),
            ui_url=ui_url,
            username=conn.login or None,
            password=conn.password if conn.login else None,
        )

    def get_conn(self) -> TrackingTarget:
        return self.get_target()
