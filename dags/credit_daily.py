"""### credit_daily: `churn_daily`'s lifecycle for loan applications (settings: `include/pipelines/credit.yaml`)."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle.workflows import DAILY_MAX_ACTIVE_RUNS, daily_params, daily_tasks, default_args

PIPELINE = "credit"

with DAG(dag_id=Path(__file__).stem, doc_md=__doc__, schedule="@daily", catchup=False,
         max_active_runs=DAILY_MAX_ACTIVE_RUNS,
         start_date=pendulum.datetime(2026, 10, 1, tz="UTC"), tags=["ml-lifecycle", PIPELINE, "scoring"],
         default_args=default_args("risk-analytics", PIPELINE), params=daily_params()):
    daily_tasks(PIPELINE)
