from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ml_lifecycle.links import MlflowLink
from ml_lifecycle.operators.base import MLFLOW_UI_XCOM_KEY, PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class PromoteModelOperator(PipelineOperator):
    """Judge the candidate with the spec's gate; move the ``champion`` alias only on PROMOTE.

    HOLD and REJECT are normal outcomes, not failures: the task succeeds, records the verdict on the
    model version and returns it; the champion stays where it was.
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window", "evaluation")
    ui_color = "#b39ddb"
    operator_extra_links = (MlflowLink(),)

    def __init__(self, *, window: Any, evaluation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.evaluation = evaluation

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.registry import apply_verdict, judge, smoke_test
        from ml_lifecycle.training import smoke_sample

        def promote() -> dict[str, Any]:
            version = self.evaluation["candidate_version"]
            sample = smoke_sample(self.spec, self.window["holdout_path"])
            passed, detail = smoke_test(self.spec, self.tracking, version, sample)
            if not passed:
                self.log.error("smoke test of version %s failed: %s", version, detail)
            verdict = judge(self.spec, self.evaluation, smoke_test_passed=passed)
            actor = f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"
            return apply_verdict(self.spec, self.tracking, verdict, actor=actor, lineage=self.lineage(context))

        result = self.timed(promote)
        for reason in result["reasons"]:
            self.log.info("gate: %s", reason)
        self.log.info("verdict for version %s: %s; champion is version %s",
                      result["candidate_version"], result["decision"], result["champion_version"])
        url = self.tracking.model_version_url(self.spec.model.registered_name, result["candidate_version"])
        if url:
            context["ti"].xcom_push(key=MLFLOW_UI_XCOM_KEY, value=url)
        return result
