"""The gate, the optional human approval and the publication of a new champion: three small tasks.

``gate`` judges the candidate and records the verdict (version tags, a JSON artifact, a report and the
model card); ``approve`` asks a human when the spec says ``approval: required`` and skips itself
otherwise; ``publish`` moves ``champion`` after a smoke test from ``@challenger``, only on PROMOTE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ml_lifecycle.links import (
    MODEL_CARD_XCOM_KEY,
    MODEL_VERSION_XCOM_KEY,
    ModelCardLink,
    ModelVersionLink,
    ReportLink,
)
from ml_lifecycle.operators.base import REPORT_XCOM_KEY, PipelineOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

MIN_FORCE_REASON_CHARS = 10


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
        from ml_lifecycle.model_card import write_model_card
        from ml_lifecycle.registry import judge, record_verdict, set_alias, smoke_test
        from ml_lifecycle.training import smoke_sample

        force = (self.force_reason or "").strip() or None
        if force is not None and len(force) < MIN_FORCE_REASON_CHARS:
            raise AirflowFailException(
                f"force_reason must explain the force in at least {MIN_FORCE_REASON_CHARS} characters, got {force!r}")
        actor = f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"

        def gate() -> dict[str, Any]:
            version = str(self.evaluation["candidate_version"])
            client = self.tracking.activate()
            name = self.spec.model.registered_name
            if str(client.get_registered_model(name).aliases.get("challenger", "")) != version:
                set_alias(self.spec, self.tracking, "challenger", version, action="candidate", actor=actor,
                          reason="candidate under judgement", lineage=self.lineage(context))
            sample = smoke_sample(self.spec, self.window["holdout_path"])
            passed, detail = smoke_test(self.spec, self.tracking, version, sample, alias="challenger")
            if not passed:
                self.log.error("smoke test of version %s failed: %s", version, detail)
            verdict = judge(self.spec, self.evaluation, smoke_test_passed=passed, force_reason=force)
            result = record_verdict(self.spec, self.tracking, verdict, evaluation=self.evaluation)
            result["approval_required"] = self.spec.approval == "required" and verdict.decision == "PROMOTE"
            result["model_card"] = write_model_card(self.spec, self.lake, self.tracking,
                                                    evaluation=self.evaluation, gate=result)["markdown"]
            report = self.lake.report_dir(self.spec.name, "gate", self.window["as_of"]) / f"v{version}.json"
            self.lake.write_json(report, {**result, "checks": verdict.checks, "difference": self.evaluation.get("difference")})
            result["report_path"] = str(report)
            return result

        result = self.timed(gate)
        for reason in result["reasons"]:
            self.log.info("gate: %s", reason)
        self.log.info("verdict for version %s: %s%s; champion stays v%s until publish",
                      result["candidate_version"], result["decision"], " (forced)" if result["forced"] else "",
                      result["champion_version"])
        context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result["report_path"])
        context["ti"].xcom_push(key=MODEL_CARD_XCOM_KEY, value=str(result["model_card"]).removesuffix(".md") + ".html")
        url = self.tracking.model_version_url(self.spec.model.registered_name, result["candidate_version"])
        if url:
            context["ti"].xcom_push(key=MODEL_VERSION_XCOM_KEY, value=url)
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
        from ml_lifecycle.training import smoke_sample

        if self.gate["decision"] != "PROMOTE":
            raise AirflowSkipException(
                f"gate said {self.gate['decision']} for v{self.gate['candidate_version']}: champion stays "
                f"v{self.gate['champion_version'] or 'none'}")
        approval = context["ti"].xcom_pull(task_ids=self.approval_task_id) if self.approval_task_id else None
        approved_by = None
        if isinstance(approval, dict) and approval.get("responded_by_user"):
            approved_by = str(approval["responded_by_user"])
        actor = f"airflow:{context['ti'].dag_id}/{context['ti'].run_id}"
        result = self.timed(lambda: publish(
            self.spec, self.tracking, self.gate, sample=smoke_sample(self.spec, self.window["holdout_path"]),
            actor=actor, lineage=self.lineage(context), approved_by=approved_by))
        result["approved_by"] = approved_by
        self.log.info("champion is now v%s (was v%s; %s)", result["champion_version"], result["previous_champion"],
                      result["action"])
        from ml_lifecycle.notifiers import model_change_alert

        model_change_alert(self.pipeline, str(result["action"]), to_version=result["champion_version"],
                           from_version=result["previous_champion"], reason="; ".join(self.gate["reasons"][-2:]))
        url = self.tracking.model_version_url(self.spec.model.registered_name, result["champion_version"])
        if url:
            context["ti"].xcom_push(key=MODEL_VERSION_XCOM_KEY, value=url)
        return result
