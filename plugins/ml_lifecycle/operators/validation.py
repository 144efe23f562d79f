from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator
from ml_lifecycle.ui.links import ReportLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ml_lifecycle.contracts import ValidationResult


class ValidateOperator(PipelineOperator):
    """Run the pipeline's Great Expectations suite on a raw partition; pass it on or quarantine it.

    A blocked batch fails without retries (the same data fails the same way) after its report and the
    quarantined rows are written; the day's downstream tasks do not run.
    """

    uses_mlflow = False

    ui_color = "#fff3e0"
    operator_extra_links = (ReportLink(),)

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.exceptions import DataValidationError
        from ml_lifecycle.ingest import read_raw_features
        from ml_lifecycle.validation import validate_partition

        ds = self.resolved_date(context)

        def validate() -> ValidationResult:
            frame, data_version = read_raw_features(self.spec, self.lake, ds)
            return validate_partition(self.spec, self.lake, ds, frame, data_version=data_version)

        try:
            result = self.timed(validate)
        except DataValidationError as exc:
            context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=exc.report_path)
            raise AirflowFailException(str(exc)) from exc
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result.get("report_path"))
        self.log.info("validation %s ds=%s: %s", self.pipeline, ds, result)
        return result
