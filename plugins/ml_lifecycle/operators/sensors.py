"""Sensors of the lifecycle: waiting for a source's landing drop without holding a worker slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class LandingSensor(BaseSensorOperator):
    """Wait until the day's landing drop is complete (its ``_SUCCESS`` marker is there) and the run of the
    day before has finished.

    A scheduled run starts when its day ends, usually before the source has dropped the day's files;
    in ``reschedule`` mode the wait holds no worker slot. A drop that never comes fails the run after
    ``timeout`` with a message naming the folder it waited for.

    Days run in date order however their runs were made: the retraining policy and realized performance
    read the earlier days' results, and a backfill created by hand (Airflow's default lets 10 days run at
    once) or runs triggered from the UI would otherwise interleave. So the sensor also waits while the run
    with the previous logical date is queued or running. A run waiting here holds nothing else up: an
    earlier day, a backfill of past days or a manual run of another day starts at once.

    :param pipeline: name of a spec in ``include/pipelines/`` (templated).
    :param partition_date: the ``YYYY-MM-DD`` drop to wait for (templated); by default the run's date.
    :param lake_root: the lake's root; by default ``ML_LIFECYCLE_LAKE_ROOT``.
    :param in_date_order: also wait for the previous day's run to finish (default True).
    """

    template_fields: Sequence[str] = ("pipeline", "partition_date", "lake_root")
    ui_color = "#e1f5fe"

    def __init__(
        self,
        *,
        pipeline: str,
        partition_date: str | None = None,
        lake_root: str | None = None,
        in_date_order: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.partition_date = partition_date
        self.lake_root = lake_root
        self.in_date_order = in_date_order
        self.waiting_for: str | None = None

    def execute(self, context: Context) -> Any:
        from airflow.sdk.exceptions import AirflowSensorTimeout

        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            # A sensor timeout is not retried: the run ends now and frees the pipeline's run slot.
            raise AirflowSensorTimeout(self._timeout_message(context)) from exc

    def _timeout_message(self, context: Context) -> str:
        ds = self.partition_date or PipelineOperator.run_date(context)
        waited = f"after {self.timeout:.0f} s ([ml_lifecycle] landing_timeout)"
        if self.waiting_for:
            return (f"{self.pipeline} ds={ds}: the run of the day before ({self.waiting_for}) had not finished "
                    f"{waited}; days run in date order. Clear this task once that run has finished.")
        from ml_lifecycle.lake import Lake

        lake = Lake(self.lake_root)
        folder = lake.location(lake.landing_dir(self.pipeline, ds))
        return (f"no complete landing drop for {self.pipeline} ds={ds} {waited}: {folder} has no _SUCCESS "
                "marker. The run gives up so the next days can run; once the drop has landed, clear this "
                "task to run the day.")

    def poke(self, context: Context) -> bool:
        from ml_lifecycle.ingest import landing_ready
        from ml_lifecycle.lake import Lake

        ds = self.partition_date or PipelineOperator.run_date(context)
        self.waiting_for = None
        if not landing_ready(self.pipeline, Lake(self.lake_root), ds):
            self.log.info("landing drop for %s ds=%s is not complete yet", self.pipeline, ds)
            return False
        self.waiting_for = self.unfinished_previous_run(context) if self.in_date_order else None
        if self.waiting_for:
            self.log.info("%s ds=%s: drop complete; waiting for the run of the day before (%s) to finish, "
                          "days run in date order", self.pipeline, ds, self.waiting_for)
            return False
        return True

    @staticmethod
    def unfinished_previous_run(context: Context) -> str | None:
        """The run with the previous logical date, as ``"<run_id> (<state>)"``, while it is queued or
        running; None once it has finished or when there is none."""
        previous = context["ti"].get_previous_dagrun()
        # A str Enum (DagRunState): str() would give "DagRunState.RUNNING".
        state = getattr(previous.state, "value", previous.state) if previous is not None else None
        if previous is None or state not in ("queued", "running"):
            return None
        return f"{previous.run_id}, {state}"
