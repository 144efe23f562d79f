from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.links import ReportLink
from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


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

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.performance import realized_performance, rollback_check

        ds = self.resolved_date(context)
        summary = self.timed(lambda: realized_performance(self.spec, self.lake, ds))
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=summary["report_path"])

        champion = previous = None
        if self.use_registry:
            from ml_lifecycle.evaluation import champion_version
            from ml_lifecycle.registry import previous_champion

            current = champion_version(self.spec, self.tracking)
            champion = current["version"] if current else None
            previous = previous_champion(self.spec, self.tracking) if champion else None
        decision = rollback_check(self.spec, self.lake, ds, champion_version=champion, previous_version=previous)
        self.log.info("realized performance %s ds=%s: %s; rollback decision: %s",
                      self.pipeline, ds, summary, decision["reason"])

        rolled_back = None
        if decision["rollback"] and self.rollback:
            from ml_lifecycle.registry import rollback

            actor = f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"
            rolled_back = rollback(self.spec, self.tracking, version=decision["to_version"],
                                   reason=f"realized performance: {decision['reason']}", actor=actor,
                                   lineage=self.lineage(context))
            self.log.warning("rolled back %s: %s", self.pipeline, rolled_back)
            from ml_lifecycle.notifiers import model_change_alert

            model_change_alert(self.pipeline, "rollback", to_version=decision["to_version"],
                               from_version=decision["from_version"], reason=str(decision["reason"]),
                               details={"evidence": decision.get("evidence")})
        elif decision["rollback"]:
            self.log.warning("rollback advised but not applied (rollback=False): %s", decision["reason"])
        return {**summary, "rollback_decision": decision, "rolled_back": rolled_back}
