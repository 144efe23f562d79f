from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class EvaluateModelOperator(PipelineOperator):
    """Score the new version and the champion on the same holdout rows."""

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window", "model")
    ui_color = "#c5cae9"

    def __init__(self, *, window: Any, model: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.model = model

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.evaluation import evaluate_candidate

        report_dir = self.lake.report_dir(self.spec.name, "evaluation", self.window["as_of"])
        result = self.timed(
            lambda: evaluate_candidate(
                self.spec,
                self.tracking,
                candidate_version=self.model["version"],
                holdout_path=self.window["holdout_path"],
                report_dir=report_dir,
                lake=self.lake,
            )
        )
        self.log.info("evaluation of v%s: %s; champion v%s: %s", result["candidate_version"],
                      result["candidate"], result["champion_version"], result["champion"])
        return result
