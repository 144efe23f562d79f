from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class IngestOperator(PipelineOperator):
    """Copy a complete landing drop into ``raw/`` with its sha256 as the data version; keep late labels."""

    uses_mlflow = False

    ui_color = "#e3f2fd"

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from ml_lifecycle.exceptions import BadLabels, BadLandingFile, LandingInTheFuture
        from ml_lifecycle.ingest import ingest_landing

        ds = self.resolved_date(context)

        try:
            result = self.timed(lambda: ingest_landing(self.spec, self.lake, ds))
        except (BadLandingFile, BadLabels, LandingInTheFuture) as exc:
            # The same bytes fail the same way: no retries (a missing drop, LandingNotReady, does retry).
            raise AirflowFailException(str(exc)) from exc
        self.log.info("ingest %s ds=%s: %s", self.pipeline, ds, result)
        return result
