"""
### churn_training: train, judge and promote a churn model

Runs whenever `churn_daily`'s retraining policy requests it (Asset `churn.retraining_request`), or by
hand with the **as_of** Param (train on what was known on that date). There is deliberately no cron
schedule: every automatic retraining goes through the policy's guardrails (persistence, cool-down).

1. **assemble_window**: validated features joined with the labels that had *arrived* by the training
   date; the most recent days are the holdout;
2. **train**: the scikit-learn Pipeline from `include/pipelines/churn.yaml`, logged to MLflow with
   lineage tags and registered as a new version of `churn_classifier` (alias `challenger`);
3. **evaluate**: the new version and the champion on the same holdout rows: metrics, per-slice metrics,
   a paired-bootstrap interval of the difference, calibration, latency for 10k rows, model size;
4. **gate**: the spec's promotion policy gives PROMOTE, HOLD or REJECT with every reason (version tags,
   JSON report, model card); it never moves `champion`;
5. **approve**: a human approves the promotion in the Airflow UI when the spec says `approval: required`
   (skips itself otherwise); Reject or a timeout leaves the champion where it is;
6. **publish**: on PROMOTE, a smoke test from `models:/churn_classifier@challenger`, then `champion` moves
   and the move is recorded in the alias history.

**force_reason** forces PROMOTE past a HOLD or REJECT (never past a failed smoke test); the version is
tagged as forced with the reason. Leave it empty for a normal run.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from ml_lifecycle import assets
from ml_lifecycle.operators import (
    AssembleTrainingWindowOperator,
    EvaluateModelOperator,
    GateOperator,
    ModelApprovalOperator,
    PublishModelOperator,
    TrainModelOperator,
)

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule=[assets.retraining_request(PIPELINE)],
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
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
    },
    tags=["ml-lifecycle", PIPELINE, "training"],
    default_args={"owner": "ml-platform", "retries": 1, "retry_delay": timedelta(minutes=5)},
):
    window = AssembleTrainingWindowOperator(
        task_id="assemble_window", pipeline=PIPELINE, partition_date="{{ params.as_of or '' }}"
    )
    train = TrainModelOperator(task_id="train", pipeline=PIPELINE, window=window.output)
    evaluate = EvaluateModelOperator(task_id="evaluate", pipeline=PIPELINE, window=window.output, model=train.output)
    gate = GateOperator(
        task_id="gate", pipeline=PIPELINE, window=window.output, evaluation=evaluate.output,
        force_reason="{{ params.force_reason or '' }}",
    )
    approve = ModelApprovalOperator(task_id="approve", gate_task_id="gate", response_timeout=timedelta(days=2))
    publish = PublishModelOperator(task_id="publish", pipeline=PIPELINE, window=window.output, gate=gate.output)

    window >> train >> evaluate >> gate >> approve >> publish
