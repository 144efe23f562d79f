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
from ml_lifecycle.operators.sensors import LandingSensor


def default_args(owner: str, pipeline: str, *, retries: int = 2) -> dict[str, Any]:
    """Owner, retries and the failure alert (routed by the ``ml_alerts`` connection, else logged).

    The delay between tries is the deployment's ``[core] default_task_retry_delay`` (5 minutes unless
    set): an operator tunes it for the whole deployment without editing DAG files.
    """
    return {
        "owner": owner,
        "retries": retries,
        "on_failure_callback": failure_notifier(pipeline),
    }


# Runs of a daily DAG that may be active at once. Days still run one at a time in date order (the landing
# sensor waits for the day before), so this only bounds runs parked in that wait: a scheduled run
# waiting hours for a late drop must not queue a person's manual run of another day behind it.
DAILY_MAX_ACTIVE_RUNS = 16


def landing_wait() -> dict[str, Any]:
    """How the daily run waits for its drop: ``[ml_lifecycle] landing_poke_interval`` seconds between
    looks (default 300) and ``landing_timeout`` seconds in all (default 6 hours), from Airflow's config
    (``AIRFLOW__ML_LIFECYCLE__LANDING_POKE_INTERVAL``...), so the wait suits the source, not the code."""
    from airflow.sdk import conf

    return {
        "poke_interval": conf.getfloat("ml_lifecycle", "landing_poke_interval", fallback=300.0),
        "timeout": conf.getfloat("ml_lifecycle", "landing_timeout", fallback=6 * 3600.0),
        "mode": "reschedule",
    }


VERSION_PATTERN = "^([1-9][0-9]*)?$"  # a registered version number; empty means "the default"


def daily_params() -> dict[str, Param]:
    """The daily run's form, also used by a backfill from the UI (Trigger -> Backfill) or the CLI
    (``airflow backfill create --dag-id <p>_daily ... --dag-run-conf '{"model_version": "2"}'``): Airflow
    validates the conf against these schemas before creating any run and refuses it with the message."""
    return {
        "model_version": Param(
            None,
            type=["null", "string"],
            pattern=VERSION_PATTERN,
            title="Model version",
            description="Score with this registered version (a number, e.g. 2). Empty: the model that was "
            "champion at the end of each run's data interval, so a backfill reproduces what the daily runs "
            "wrote. Pin a version to re-score past days with it (the predictions record the version).",
            examples=["1", "2"],
        )
    }


def training_params() -> dict[str, Param]:
    return {
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Train as of",
            description="Use only data and labels known on this date (YYYY-MM-DD; validated as a calendar "
            "date). Empty: the day of the retraining request that started the run, else the run's date.",
        ),
        "force_reason": Param(
            None,
            type=["null", "string"],
            minLength=10,
            maxLength=1000,
            title="Force promotion (reason)",
            description="Only to override the gate's HOLD or REJECT (never a failed smoke test): why this model "
            "must become champion, at least 10 characters. Recorded on the version as forced. Leave empty "
            "for a normal run.",
            examples=["incident 1234: the champion's upstream feature was retired; approved by the model owner"],
        ),
    }


def rollback_params() -> dict[str, Param]:
    return {
        "version": Param(
            None,
            type=["null", "string"],
            pattern=VERSION_PATTERN,
            title="Version",
            description="Model version to make champion (a number, e.g. 1). Empty: the champion before the "
            "current one, from the alias history. A newer version re-promotes it.",
        ),
        "reason": Param(
            "",
            type="string",
            minLength=10,
            maxLength=1000,
            title="Reason",
            description="Why the champion moves (at least 10 characters); recorded in the alias history with "
            "who triggered the run.",
            examples=["realized performance of the new champion under review",
                      "review passed: restoring the newer champion"],
        ),
    }


@dataclass(frozen=True)
class DailyTasks:
    wait_for_landing: Any
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
    """wait_for_landing -> ingest -> validate -> plan_scoring -> score_shard (mapped) -> publish_predictions
    -> shadow_score -> drift_check -> realized_performance -> retraining_policy, for the DAG being defined."""
    wait = LandingSensor(task_id="wait_for_landing", pipeline=pipeline, **landing_wait())
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
    # The request Asset is an inlet too: a re-run reads its events so a day never requests twice.
    policy = RetrainingPolicyOperator(
        task_id="retraining_policy", pipeline=pipeline, outlets=[assets.retraining_request(pipeline)],
        inlets=[assets.retraining_request(pipeline)],
    )
    wait >> ingest >> validate >> plan >> shards >> publish >> shadow >> drift >> performance >> policy
    return DailyTasks(wait, ingest, validate, plan, shards, publish, shadow, drift, performance, policy)


@dataclass(frozen=True)
class TrainingTasks:
    assemble_window: Any
    train: Any
    evaluate: Any
    gate: Any
    approve: Any
    publish: Any


def training_tasks(
    pipeline: str, *, approval_timeout: timedelta = timedelta(days=2), container: bool = False
) -> TrainingTasks:
    """assemble_window -> train -> evaluate -> gate -> approve (only when the spec requires it) -> publish.

    ``container=True`` runs ``train`` in a container through the Docker provider
    (``ContainerTrainModelOperator``), configured by the spec's ``training.container`` section when the
    task runs. It is a flag of the DAG file, not read from the spec here, because the DAG processor must
    not parse YAML; a DAG that asks for a container while its spec has no such section fails at run time
    with a message naming the field, and a test keeps the DAG files and the specs in step.
    """
    window = AssembleTrainingWindowOperator(
        task_id="assemble_window", pipeline=pipeline, partition_date="{{ params.as_of or '' }}"
    )
    if container:
        from ml_lifecycle.operators.container import ContainerTrainModelOperator  # imports the docker SDK

        train: Any = ContainerTrainModelOperator(task_id="train", pipeline=pipeline, window=window.output)
    else:
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
