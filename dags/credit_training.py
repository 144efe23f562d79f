"""### credit_training: train, judge and publish a credit-default model, as `churn_training` does."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle import assets
from ml_lifecycle.workflows import default_args, training_params, training_tasks

PIPELINE = "credit"

with DAG(dag_id=Path(__file__).stem, doc_md=__doc__, schedule=[assets.retraining_request(PIPELINE)],
         start_date=pendulum.datetime(2026, 10, 1, tz="UTC"), catchup=False, max_active_runs=1,
         tags=["ml-lifecycle", PIPELINE, "training"], default_args=default_args("risk-analytics", PIPELINE),
         params=training_params()):
    training_tasks(PIPELINE)
