from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ml_lifecycle.operators.base import PipelineOperator
from ml_lifecycle.ui.links import (
    MLFLOW_RUN_XCOM_KEY,
    MODEL_VERSION_XCOM_KEY,
    MlflowRunLink,
    ModelVersionLink,
)

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import Logger

    from ml_lifecycle.tracking import TrackingTarget


class AssembleTrainingWindowOperator(PipelineOperator):
    """Join validated features with the labels that had arrived by the training date; split by time."""

    uses_mlflow = False

    ui_color = "#ede7f6"

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.training import assemble_window

        as_of = (not self.partition_date and self.requested_date(context)) or self.resolved_date(context)
        result = self.timed(lambda: assemble_window(self.spec, self.lake, as_of))
        self.log.info("training window %s as of %s: %s rows train, %s holdout, partitions %s..%s",
                      self.pipeline, as_of, result["train_rows"], result["holdout_rows"],
                      result["partitions"][0], result["partitions"][-1])
        return result

    def requested_date(self, context: Context) -> str | None:
        """The day of the retraining request that started this run (the latest, if several did).

        A request made while backfilling past days must train on what was known on that day; the run's
        own date (today) would look for partitions and labels that do not exist yet.
        """
        from ml_lifecycle import assets

        events = context.get("triggering_asset_events") or {}
        try:
            requests = events[assets.retraining_request(self.pipeline)]
        except (KeyError, TypeError):
            return None
        days = [str(event.extra["ds"]) for event in requests if (event.extra or {}).get("ds")]
        return max(days) if days else None


class TrainModelOperator(PipelineOperator):
    """Fit the spec's scikit-learn Pipeline, log it to MLflow with lineage and register a version."""

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window")
    ui_color = "#d1c4e9"
    operator_extra_links = (MlflowRunLink(), ModelVersionLink())

    def __init__(self, *, window: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.training import train_and_register

        lineage = self.lineage(context)
        result = self.timed(lambda: train_and_register(self.spec, self.window, self.tracking, lineage))
        announce_registered(context, result, self.tracking, self.log)
        return result


def announce_registered(context: Context, result: dict[str, Any], tracking: TrackingTarget, log: Logger) -> None:
    """Push the MLflow run and model version links of a training result and log the new version
    (in-process or in a container, the training task shows the same links)."""
    for key, url in ((MLFLOW_RUN_XCOM_KEY, tracking.run_url(result["experiment_id"], result["run_id"])),
                     (MODEL_VERSION_XCOM_KEY, tracking.model_version_url(result["model_name"], result["version"]))):
        if url:
            context["ti"].xcom_push(key=key, value=url)
    log.info("registered %s version %s (run %s)", result["model_name"], result["version"], result["run_id"])
