"""Building blocks for a pipeline's DAG files: the lifecycle's standard task chains, one call each.

The DAG file stays where a workflow is defined: its ``DAG(...)`` arguments (schedule, start date,
tags, owner) are written out there, and these helpers only add the standard tasks to the DAG being
defined and return them, so a data engineer can wire an extra task in with ``>>``::

    with DAG(...):
        tasks = daily_tasks("credit")
        tasks.validate >> my_extra_check

Nothing here reads YAML or imports a heavy library: DAG files stay cheap to parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow.sdk import Param

from ml_lifecycle import assets
from ml_lifecycle.notifiers import failure_notifier
from ml_lifecycle.operators import (
    AssembleTrainingWindowOperator,
    DriftCheckOperator,
    EvaluateModelOperator,
    GateOperator,
    IngestOperator,
    ModelApprovalOperator,
    PlanScoringOperator,
    PublishModelOperator,
    PublishPredictionsOperator,
    RealizedPerformanceOperator,
    RetrainingPolicyOperator,
    RollbackOperator,
    ScoreShardOperator,
    ShadowScoreOperator,
    TrainModelOperator,
    ValidateOperator,
)


def default_args(owner: str, pipeline: str, *, retries: int = 2) -> dict[str, Any]:
    """Owner, retries and the failure alert (routed by the ``ml_alerts`` connection, else logged)."""
    return {
        "owner": owner,
        "retries": retries,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": failure_notifier(pipeline),
    }


def daily_params() -> dict[str, Param]:
    return {
        "model_version": Param(
            None,
            type=["null", "string"],
            pattern="^[0-9]*$",
            title="Model version",
            description="Score with this registered version. Empty: the model that was champion at the end "
            "of the run's data interval (so a backfill reproduces what the daily run wrote).",
        )
    }


def training_params() -> dict[str, Param]:
    return {
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Train as of",
            description="Use only data and labels known on this date (YYYY-MM-DD). Empty: the run's date.",
        ),
        "force_reason": Param(
            None,
            type=["null", "string"],
            minLength=10,
            title="Force promotion (reason)",
            description="Only to override the gate: why this model must become champion. Recorded as forced.",
        ),
    }


def rollback_params() -> dict[str, Param]:
    return {
        "version": Param(
            None,
            type=["null", "string"],
            pattern="^[0-9]*$",
            title="Version",
            description="Model version to make champion. Empty: the previous champion.",
        ),
        "reason": Param(
            "",
            type="string",
            minLength=10,
            title="Reason",
            description="Why the champion moves (at least 10 characters); recorded in the alias history.",
        ),
    }


@dataclass(frozen=True)
class DailyTasks:
    ingest: Any
    validate: Any
    plan_scoring: Any
    score_shard: Any
    publish_predictions: Any
    shadow_score: Any
    drift_check: Any
    realized_performance: Any
    retraining_policy: Any


def daily_tasks(pipeline: str, *, automatic_rollback: bool = True) -> DailyTasks:
    """ingest -> validate -> plan_scoring -> score_shard (mapped) -> publish_predictions -> shadow_score
    -> drift_check -> realized_performance -> retraining_policy, for the DAG being defined."""
    ingest = IngestOperator(task_id="ingest", pipeline=pipeline)
    validate = ValidateOperator(task_id="validate", pipeline=pipeline, outlets=[assets.validated_data(pipeline)])
    plan = PlanScoringOperator(
        task_id="plan_scoring", pipeline=pipeline, model_version="{{ params.model_version or '' }}"
    )
    shards = ScoreShardOperator.partial(task_id="score_shard", pipeline=pipeline).expand(shard=plan.output)
    publish = PublishPredictionsOperator(
        task_id="publish_predictions", pipeline=pipeline, shards=plan.output, results=shards.output,
        outlets=[assets.predictions(pipeline)],
    )
    shadow = ShadowScoreOperator(task_id="shadow_score", pipeline=pipeline)
    drift = DriftCheckOperator(task_id="drift_check", pipeline=pipeline)
    performance = RealizedPerformanceOperator(
        task_id="realized_performance", pipeline=pipeline, rollback=automatic_rollback
    )
    policy = RetrainingPolicyOperator(
        task_id="retraining_policy", pipeline=pipeline, outlets=[assets.retraining_request(pipeline)]
    )
    ingest >> validate >> plan >> shards >> publish >> shadow >> drift >> performance >> policy
    return DailyTasks(ingest, validate, plan, shards, publish, shadow, drift, performance, policy)


@dataclass(frozen=True)
class TrainingTasks:
    assemble_window: Any
    train: Any
    evaluate: Any
    gate: Any
    approve: Any
    publish: Any


def training_tasks(pipeline: str, *, approval_timeout: timedelta = timedelta(days=2)) -> TrainingTasks:
    """assemble_window -> train -> evaluate -> gate -> approve (only when the spec requires it) -> publish."""
    window = AssembleTrainingWindowOperator(
        task_id="assemble_window", pipeline=pipeline, partition_date="{{ params.as_of or '' }}"
    )
    train = TrainModelOperator(task_id="train", pipeline=pipeline, window=window.output)
    evaluate = EvaluateModelOperator(task_id="evaluate", pipeline=pipeline, window=window.output, model=train.output)
    gate = GateOperator(
        task_id="gate", pipeline=pipeline, window=window.output, evaluation=evaluate.output,
        force_reason="{{ params.force_reason or '' }}",
    )
    approve = ModelApprovalOperator(task_id="approve", gate_task_id="gate", response_timeout=approval_timeout)
    publish = PublishModelOperator(task_id="publish", pipeline=pipeline, window=window.output, gate=gate.output)
    window >> train >> evaluate >> gate >> approve >> publish
    return TrainingTasks(window, train, evaluate, gate, approve, publish)


def rollback_task(pipeline: str) -> Any:
    return RollbackOperator(
        task_id="rollback", pipeline=pipeline, version="{{ params.version or '' }}", reason="{{ params.reason }}"
    )
