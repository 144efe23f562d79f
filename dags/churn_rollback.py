"""
### churn_rollback: put a previous model back as champion, in one recorded step

Manual only. Moves the alias `champion` of `churn_classifier` to **version** (empty: the champion
before the current one, from the alias history) after a load-and-predict smoke test, and records who,
when, from which version and why in the alias history (MLflow experiment `churn-registry-events`).
The same DAG re-promotes a newer version after a rollback: give its number.

Refused (the task fails, no retry helps): a reason shorter than 10 characters, an unknown version, the
current champion, a version the gate rejected. Same from a shell:
`ml-lifecycle rollback --pipeline churn [--version N] --reason "..."`.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle.workflows import default_args, rollback_params, rollback_task

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ml-lifecycle", PIPELINE, "registry"],
    default_args=default_args("ml-platform", PIPELINE, retries=1),
    params=rollback_params(),
):
    rollback_task(PIPELINE)
