"""Monitoring tasks: drift check, realized performance with the rollback check, retraining policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowSkipException

from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator
from ml_lifecycle.ui.links import ReportLink

if TYPE_CHECKING:
    from airflow.sdk import Context


class DriftCheckOperator(PipelineOperator):
    """Evidently drift report of a validated partition against the champion's training sample."""

    ui_color = "#fce4ec"
    operator_extra_links = (ReportLink(),)

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.exceptions import NoChampion
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


class RealizedPerformanceOperator(PipelineOperator):
    """Realized performance of the scores whose labels have arrived, and the rollback decision.

    Writes ``reports/<pipeline>/performance/ds=<ds>/performance.json`` (performance.realized_performance)
    and decides with performance.rollback_check whether the champion should go back to its predecessor.
    The decision is always computed and returned; the alias moves only with ``rollback=True``
    (through registry.rollback, which refuses rejected or broken versions and records the move).

    :param rollback: move ``champion`` back when the decision says so (default: decide only).
    :param use_registry: take the champion and its predecessor from the MLflow registry (default);
        False reads them from the model versions on the predictions (no MLflow import).

    Returns the summary of realized_performance (ds, labelled_rows, event_dates, window, versions,
    report_path) plus ``rollback_decision`` ({rollback, reason, from_version, to_version, evidence})
    and ``rolled_back`` (the registry's result, or None).
    """

    ui_color = "#e8f5e9"
    operator_extra_links = (ReportLink(),)

    def __init__(self, *, rollback: bool = False, use_registry: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rollback = rollback
        self.use_registry = use_registry
        self.uses_mlflow = use_registry

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.monitoring import review_realized_performance

        ds = self.resolved_date(context)
        result = self.timed(lambda: review_realized_performance(
            self.spec, self.lake, self.tracking if self.use_registry else None, ds, roll_back=self.rollback,
            actor=self.actor(context), lineage=self.lineage(context)))
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result["report_path"])
        decision = result["rollback_decision"]
        self.log.info("realized performance %s ds=%s: %s rows; rollback decision: %s",
                      self.pipeline, ds, result["labelled_rows"], decision["reason"])
        if result["rolled_back"]:
            from ml_lifecycle.notifiers import model_change_alert

            self.log.warning("rolled back %s: %s", self.pipeline, result["rolled_back"])
            model_change_alert(self.pipeline, "rollback", to_version=decision["to_version"],
                               from_version=decision["from_version"], reason=str(decision["reason"]),
                               details={"evidence": decision.get("evidence")})
        elif decision["rollback"]:
            self.log.warning("rollback advised but not applied (rollback=False): %s", decision["reason"])
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
