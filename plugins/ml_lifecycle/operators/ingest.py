from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class IngestOperator(PipelineOperator):
    """Copy a complete landing drop into ``raw/`` with its sha256 as the data version; keep late labels."""

    ui_color = "#e3f2fd"

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.ingest import ingest_landing

        ds = self.resolved_date(context)

        result = self.timed(lambda: ingest_landing(self.spec, self.lake, ds))
        self.log.info("ingest %s ds=%s: %s", self.pipeline, ds, result)
        return result
