from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowSkipException

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class BatchPredictOperator(PipelineOperator):
    """Score a validated partition with ``models:/<name>@champion`` into ``predictions/``."""

    ui_color = "#e8f5e9"

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.inference import NoChampion, score_partition

        ds = self.resolved_date(context)

        try:
            result = self.timed(lambda: score_partition(self.spec, self.lake, ds, self.tracking))
        except NoChampion as exc:
            raise AirflowSkipException(str(exc)) from exc
        self.log.info("scored %s ds=%s: %s", self.pipeline, ds, result)
        return result
