from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from ml_lifecycle.links import MODEL_VERSION_XCOM_KEY, ModelVersionLink
from ml_lifecycle.operators.base import PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class RollbackOperator(PipelineOperator):
    """Move ``champion`` to ``version`` (default: the previous champion) with a reason, in one recorded step.

    A refused rollback (unknown or rejected version, short reason, failed smoke test) fails without
    retries: the same request fails the same way.
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "version", "reason")
    ui_color = "#ef9a9a"
    operator_extra_links = (ModelVersionLink(),)

    def __init__(self, *, reason: str, version: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.version = version

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.registry import RegistryError, rollback

        actor = f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"
        try:
            result = self.timed(lambda: rollback(
                self.spec, self.tracking, version=str(self.version).strip() or None if self.version else None,
                reason=str(self.reason), actor=actor, lineage=self.lineage(context)))
        except RegistryError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("%s: champion v%s -> v%s (%s)", result["action"], result["previous_champion"],
                      result["champion_version"], result["reason"])
        from ml_lifecycle.notifiers import model_change_alert

        model_change_alert(self.pipeline, str(result["action"]), to_version=result["champion_version"],
                           from_version=result["previous_champion"], reason=str(result["reason"]))
        url = self.tracking.model_version_url(self.spec.model.registered_name, result["champion_version"])
        if url:
            context["ti"].xcom_push(key=MODEL_VERSION_XCOM_KEY, value=url)
        return result
