"""Sensors of the lifecycle: waiting for a source's landing drop without holding a worker slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class LandingSensor(BaseSensorOperator):
    """Wait until the day's landing drop is complete (its ``_SUCCESS`` marker is there).

    A scheduled run starts when its day ends, usually before the source has dropped the day's files;
    in ``reschedule`` mode the wait holds no worker slot. A drop that never comes fails the run after
    ``timeout`` with a message naming the folder it waited for.

    :param pipeline: name of a spec in ``include/pipelines/`` (templated).
    :param partition_date: the ``YYYY-MM-DD`` drop to wait for (templated); by default the run's date.
    :param lake_root: the lake's root; by default ``ML_LIFECYCLE_LAKE_ROOT``.
    """

    template_fields: Sequence[str] = ("pipeline", "partition_date", "lake_root")
    ui_color = "#e1f5fe"

    def __init__(
        self,
        *,
        pipeline: str,
        partition_date: str | None = None,
        lake_root: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.partition_date = partition_date
        self.lake_root = lake_root

    def poke(self, context: Context) -> bool:
        from ml_lifecycle.ingest import landing_ready
        from ml_lifecycle.lake import Lake

        ds = self.partition_date or PipelineOperator.run_date(context)
        ready = landing_ready(self.pipeline, Lake(self.lake_root), ds)
        if not ready:
            self.log.info("landing drop for %s ds=%s is not complete yet", self.pipeline, ds)
        return ready
