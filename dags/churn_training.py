"""
### churn_training: train, judge and promote a churn model

Runs whenever `churn_daily`'s retraining policy requests it (Asset `churn.retraining_request`), or by
hand with the **as_of** Param (train on what was known on that date). There is deliberately no cron
schedule: every automatic retraining goes through the policy's guardrails (persistence, cool-down).

1. **assemble_window**: validated features joined with the labels that had *arrived* by the training
   date; the most recent days are the holdout;
2. **train**: the scikit-learn Pipeline from `include/pipelines/churn.yaml`, logged to MLflow with
   lineage tags and registered as a new version of `churn_classifier` (alias `challenger`);
3. **evaluate**: the new version and the champion, on the same holdout rows;
4. **promote**: the gate (floors, no regression, load-and-predict smoke test) moves the alias
   `champion` on PROMOTE; HOLD and REJECT leave the champion where it was.
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
    PromoteModelOperator,
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
        )
    },
    tags=["ml-lifecycle", PIPELINE, "training"],
    default_args={"owner": "ml-platform", "retries": 1, "retry_delay": timedelta(minutes=5)},
):
    window = AssembleTrainingWindowOperator(
        task_id="assemble_window", pipeline=PIPELINE, partition_date="{{ params.as_of or '' }}"
    )
    train = TrainModelOperator(task_id="train", pipeline=PIPELINE, window=window.output)
    evaluate = EvaluateModelOperator(task_id="evaluate", pipeline=PIPELINE, window=window.output, model=train.output)
    promote = PromoteModelOperator(
        task_id="promote", pipeline=PIPELINE, window=window.output, evaluation=evaluate.output
    )

    window >> train >> evaluate >> promote
