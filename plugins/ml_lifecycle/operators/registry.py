"""Registry tasks: evaluate, gate, the optional human approval, publish and rollback (``ml_lifecycle.registry``).

``evaluate`` scores candidate and champion on the same holdout; ``gate`` judges the candidate and records
the verdict (version tags, a JSON artifact, a report and the model card); ``approve`` asks a human when the
spec says ``approval: required`` and skips itself otherwise; ``publish`` moves ``champion`` after a smoke
test from ``@challenger``, only on PROMOTE; ``rollback`` moves it back (or forward) with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator
from ml_lifecycle.ui.links import (
    MODEL_CARD_XCOM_KEY,
    ModelCardLink,
    ModelVersionLink,
    ReportLink,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

MIN_FORCE_REASON_CHARS = 10


class EvaluateModelOperator(PipelineOperator):
    """Score the new version and the champion on the same holdout rows."""

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window", "model")
    ui_color = "#c5cae9"

    def __init__(self, *, window: Any, model: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.model = model

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.registry import evaluate_candidate

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


class GateOperator(PipelineOperator):
    """Judge the candidate with the spec's promotion policy; record the verdict; never move ``champion``.

    HOLD and REJECT are normal outcomes, not failures: the task succeeds and returns the verdict.
    ``force_reason`` (templated, from the trigger Param) forces PROMOTE and is recorded as forced.
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window", "evaluation", "force_reason")
    ui_color = "#b39ddb"
    operator_extra_links = (ModelVersionLink(), ReportLink(), ModelCardLink())

    def __init__(self, *, window: Any, evaluation: Any, force_reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.evaluation = evaluation
        self.force_reason = force_reason

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.registry import judge_candidate

        force = (self.force_reason or "").strip() or None
        if force is not None and len(force) < MIN_FORCE_REASON_CHARS:
            raise AirflowFailException(
                f"force_reason must explain the force in at least {MIN_FORCE_REASON_CHARS} characters, got {force!r}")
        result = self.timed(lambda: judge_candidate(
            self.spec, self.lake, self.tracking, window=self.window, evaluation=self.evaluation,
            actor=self.actor(context), lineage=self.lineage(context), force_reason=force))
        for reason in result["reasons"]:
            self.log.info("gate: %s", reason)
        self.log.info("verdict for version %s: %s%s; champion stays v%s until publish",
                      result["candidate_version"], result["decision"], " (forced)" if result["forced"] else "",
                      result["champion_version"])
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result["report_path"])
        context["ti"].xcom_push(key=MODEL_CARD_XCOM_KEY, value=result["model_card_html"])
        self.push_model_version_link(context, result["candidate_version"])
        return result


class ModelApprovalOperator(ApprovalOperator):
    """Airflow's ApprovalOperator, showing the gate's verdict; skips itself unless approval is required.

    Approve lets ``publish`` run; Reject skips it; a timeout fails this task (``publish`` does not run).
    Either way the champion stays unless a human approved.
    """

    SUBJECT = ("Promote {{ ti.xcom_pull(task_ids=task.gate_task_id)['model_name'] }} "
               "v{{ ti.xcom_pull(task_ids=task.gate_task_id)['candidate_version'] }} to champion?")
    BODY = (
        "The gate says **{{ ti.xcom_pull(task_ids=task.gate_task_id)['decision'] }}**"
        "{% if ti.xcom_pull(task_ids=task.gate_task_id)['forced'] %} (forced){% endif %}; the champion is "
        "v{{ ti.xcom_pull(task_ids=task.gate_task_id)['champion_version'] or 'none' }}.\n\n"
        "{% for reason in ti.xcom_pull(task_ids=task.gate_task_id)['reasons'] %}- {{ reason }}\n{% endfor %}\n"
        "Model card: `{{ ti.xcom_pull(task_ids=task.gate_task_id)['model_card'] }}`"
    )
    template_fields: Sequence[str] = (*ApprovalOperator.template_fields, "gate_task_id")
    ui_color = "#ffe082"

    def __init__(self, *, gate_task_id: str = "gate", subject: str = SUBJECT, body: str = BODY, **kwargs: Any) -> None:
        super().__init__(subject=subject, body=body, **kwargs)
        self.gate_task_id = gate_task_id

    def execute(self, context: Context) -> Any:
        verdict = context["ti"].xcom_pull(task_ids=self.gate_task_id) or {}
        if not verdict.get("approval_required"):
            raise AirflowSkipException(
                f"no approval needed: the gate said {verdict.get('decision')} and the spec's approval is not "
                "'required' for a promotion" if verdict.get("decision") == "PROMOTE" else
                f"no approval needed: the gate said {verdict.get('decision')}")
        return super().execute(context)


class PublishModelOperator(PipelineOperator):
    """Move ``champion`` to the candidate the gate promoted (and a human approved, if required).

    Skips when the verdict is HOLD or REJECT. Runs after ``approve`` succeeded or skipped itself; a
    Reject skips it and a timeout fails ``approve``, so the champion stays.
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "window", "gate", "approval_task_id")
    ui_color = "#9575cd"
    operator_extra_links = (ModelVersionLink(),)

    def __init__(self, *, window: Any, gate: Any, approval_task_id: str | None = "approve", **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "none_failed_min_one_success")  # approve may have skipped itself
        super().__init__(**kwargs)
        self.window = window
        self.gate = gate
        self.approval_task_id = approval_task_id

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.registry import publish

        if self.gate["decision"] != "PROMOTE":
            raise AirflowSkipException(
                f"gate said {self.gate['decision']} for v{self.gate['candidate_version']}: champion stays "
                f"v{self.gate['champion_version'] or 'none'}")
        approval = context["ti"].xcom_pull(task_ids=self.approval_task_id) if self.approval_task_id else None
        approved_by = None
        if isinstance(approval, dict) and approval.get("responded_by_user"):
            approved_by = str(approval["responded_by_user"])
        result = self.timed(lambda: publish(
            self.spec, self.tracking, self.gate, holdout_path=self.window["holdout_path"], actor=self.actor(context),
            lineage=self.lineage(context), approved_by=approved_by))
        self.log.info("champion is now v%s (was v%s; %s)", result["champion_version"], result["previous_champion"],
                      result["action"])
        from ml_lifecycle.notifiers import model_change_alert

        model_change_alert(self.pipeline, str(result["action"]), to_version=result["champion_version"],
                           from_version=result["previous_champion"], reason="; ".join(self.gate["reasons"][-2:]))
        self.push_model_version_link(context, result["champion_version"])
        return result


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
        from ml_lifecycle.exceptions import RegistryError
        from ml_lifecycle.registry import rollback

        try:
            result = self.timed(lambda: rollback(
                self.spec, self.tracking, version=str(self.version).strip() or None if self.version else None,
                reason=str(self.reason), actor=self.actor(context), lineage=self.lineage(context)))
        except RegistryError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("%s: champion v%s -> v%s (%s)", result["action"], result["previous_champion"],
                      result["champion_version"], result["reason"])
        from ml_lifecycle.notifiers import model_change_alert

        model_change_alert(self.pipeline, str(result["action"]), to_version=result["champion_version"],
                           from_version=result["previous_champion"], reason=str(result["reason"]))
        self.push_model_version_link(context, result["champion_version"])
        return result
