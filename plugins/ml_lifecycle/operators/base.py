"""What every stage operator shares: the pipeline's spec, the lake, MLflow, lineage and timing.

Stage operators stay thin: they render their arguments, call one core function and return its small
JSON-able summary. Nothing heavy is imported here; each core module imports its own libraries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ml_lifecycle.hooks.mlflow import MlflowHook
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import PipelineSpec
    from ml_lifecycle.tracking import TrackingTarget

from ml_lifecycle.ui.links import MODEL_VERSION_XCOM_KEY, REPORT_XCOM_KEY

__all__ = ["REPORT_XCOM_KEY", "PipelineOperator"]


class PipelineOperator(BaseOperator):
    """Base of the stage operators.

    :param pipeline: name of a spec in ``include/pipelines/`` (templated).
    :param partition_date: the ``YYYY-MM-DD`` partition to work on (templated); by default the run's
        logical date, or the day it ran for runs without one (asset-triggered).
    :param lake_root: the lake's root folder; by default ``ML_LIFECYCLE_LAKE_ROOT``.
    :param mlflow_conn_id: the connection that says where MLflow is.
    """

    template_fields: Sequence[str] = ("pipeline", "partition_date", "lake_root")
    # Whether the core call talks to MLflow: its credentials are then set for the call's duration only.
    uses_mlflow: bool = True

    def __init__(
        self,
        *,
        pipeline: str,
        partition_date: str | None = None,
        lake_root: str | None = None,
        mlflow_conn_id: str = "mlflow_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.partition_date = partition_date
        self.lake_root = lake_root
        self.mlflow_conn_id = mlflow_conn_id

    @cached_property
    def spec(self) -> PipelineSpec:
        from ml_lifecycle.spec import load_spec

        return load_spec(self.pipeline)

    @cached_property
    def lake(self) -> Lake:
        from ml_lifecycle.lake import Lake

        return Lake(self.lake_root)

    @cached_property
    def hook(self) -> MlflowHook:
        from ml_lifecycle.hooks.mlflow import MlflowHook

        return MlflowHook(mlflow_conn_id=self.mlflow_conn_id)

    @cached_property
    def tracking(self) -> TrackingTarget:
        return self.hook.get_target()

    def resolved_date(self, context: Context) -> str:
        """The partition date: the rendered argument, else the run's logical date, else when it ran.

        Asset-triggered runs have no logical date; they work on the data that exists when they run.
        """
        if self.partition_date:
            return str(self.partition_date)
        return self.run_date(context)

    @staticmethod
    def run_date(context: Context) -> str:
        """The run's logical date, or the day it ran for runs without one (asset-triggered)."""
        dag_run = context["dag_run"]
        moment = dag_run.logical_date or dag_run.run_after
        return moment.strftime("%Y-%m-%d")

    def timed(self, call: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
        """Run the core call (with MLflow's credentials, if it uses MLflow) and add its wall time, so task
        overhead can be told from real work."""
        started = time.perf_counter()
        with self.tracking.credentials() if self.uses_mlflow else nullcontext():
            result = dict(call())
        result["core_seconds"] = round(time.perf_counter() - started, 3)
        return result

    @staticmethod
    def actor(context: Context) -> str:
        """Who acts, for the registry's audit: this DAG run."""
        return f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"

    def push_model_version_link(self, context: Context, version: str) -> None:
        url = self.tracking.model_version_url(self.spec.model.registered_name, version)
        if url:
            context["ti"].xcom_push(key=MODEL_VERSION_XCOM_KEY, value=url)

    @staticmethod
    def lineage(context: Context) -> dict[str, str]:
        ti = context["ti"]
        tags = {
            "airflow.dag_id": ti.dag_id,
            "airflow.run_id": ti.run_id,
            "airflow.task_id": ti.task_id,
            "airflow.try_number": str(ti.try_number),
        }
        try:
            tags["airflow.task_url"] = ti.log_url
        except Exception:  # the URL needs api base_url configured; lineage must not fail for it
            pass
        return tags
