"""### credit_rollback: put a previous credit model back as champion in one recorded step (see `churn_rollback`)."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle.workflows import default_args, rollback_params, rollback_task

PIPELINE = "credit"

with DAG(dag_id=Path(__file__).stem, doc_md=__doc__, schedule=None, catchup=False, max_active_runs=1,
         start_date=pendulum.datetime(2026, 10, 1, tz="UTC"), tags=["ml-lifecycle", PIPELINE, "registry"],
         default_args=default_args("risk-analytics", PIPELINE, retries=1), params=rollback_params()):
    rollback_task(PIPELINE)
