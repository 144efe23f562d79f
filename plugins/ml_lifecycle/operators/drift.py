from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowSkipException

from ml_lifecycle.links import ReportLink
from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class DriftCheckOperator(PipelineOperator):
    """Evidently drift report of a validated partition against the champion's training sample."""

    ui_color = "#fce4ec"
    operator_extra_links = (ReportLink(),)

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.inference import NoChampion
        from ml_lifecycle.monitoring import check_partition_drift

        ds = self.resolved_date(context)

        try:
            result = self.timed(
                lambda: check_partition_drift(self.spec, self.lake, ds, self.tracking)
            )
        except NoChampion as exc:
            raise AirflowSkipException(str(exc)) from exc
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result["report_path"])
        self.log.info("drift %s ds=%s: %s", self.pipeline, ds, result)
        if result["dataset_drift"]:
            from ml_lifecycle.notifiers import drift_alert

            drift_alert(self.pipeline, result)
        return result


class RetrainingPolicyOperator(PipelineOperator):
    """Apply the spec's retraining policy; succeed (emitting its outlet Asset) only to request retraining.

    Every decision, trigger or not, is written to ``reports/<pipeline>/retraining/`` with its reason.
    """

    ui_color = "#f3e5f5"

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.monitoring import decide_and_record_retraining

        ds = self.resolved_date(context)

        decision = self.timed(lambda: decide_and_record_retraining(self.spec, self.lake, ds))
        self.log.info("retraining policy %s ds=%s: %s", self.pipeline, ds, decision)
        if not decision["retrain"]:
            raise AirflowSkipException(f"no retraining: {decision['reason']}")
        if decision.get("recorded_before") and self._already_requested(context, ds, decision["decided_at"]):
            # A re-run of a day whose request was made (same inputs, same decision): one request only.
            raise AirflowSkipException(
                f"retraining for ds={ds} was requested when this decision was first made "
                f"({decision['decided_at']}); not requested again")
        from ml_lifecycle.notifiers import retraining_alert

        retraining_alert(self.pipeline, decision)
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra = {"ds": decision["ds"], "reason": decision["reason"]}
        return decision

    def _already_requested(self, context: Context, ds: str, decided_at: str) -> bool:
        """Whether a request event for ``ds`` exists since the decision was first recorded.

        The decision is recorded before the task succeeds, and the event is only emitted on success: a try
        that recorded it and then died emitted nothing, and its retry must still request.
        """
        for inlet in self.inlets:
            events = context["inlet_events"][inlet].after(decided_at)
            if any((event.extra or {}).get("ds") == ds for event in events):
                return True
        return False
