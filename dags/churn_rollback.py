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

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from ml_lifecycle.operators import RollbackOperator

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
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
    },
    tags=["ml-lifecycle", PIPELINE, "registry"],
    default_args={"owner": "ml-platform", "retries": 1, "retry_delay": timedelta(minutes=1)},
):
    RollbackOperator(
        task_id="rollback", pipeline=PIPELINE, version="{{ params.version or '' }}", reason="{{ params.reason }}"
    )
