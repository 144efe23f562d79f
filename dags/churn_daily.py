"""
### churn_daily: score and watch each day's customers

Every day the telco's customer snapshot lands in `landing/churn/<ds>/`. This workflow

1. **ingest**: copies the drop to `raw/` with its sha256 as the data version (and keeps late labels);
2. **validate**: runs the Great Expectations suite `include/expectations/churn.json`; a bad batch is
   quarantined with its report and stops here;
3. **predict**: scores the validated partition with `models:/churn_classifier@champion`;
4. **drift_check**: compares the day with the champion's training sample (Evidently report);
5. **retraining_policy**: requests retraining (an Asset event that `churn_training` is scheduled on)
   when drift persists, outside the cool-down.

Backfill-friendly: each date writes only its own partitions, atomically. Settings live in
`include/pipelines/churn.yaml`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle import assets
from ml_lifecycle.operators import (
    BatchPredictOperator,
    DriftCheckOperator,
    IngestOperator,
    RetrainingPolicyOperator,
    ValidateOperator,
)

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=True,
    max_active_runs=1,  # the retraining policy reads the earlier days' drift verdicts in order
    tags=["ml-lifecycle", PIPELINE, "scoring"],
    default_args={"owner": "ml-platform", "retries": 2, "retry_delay": timedelta(minutes=5)},
):
    ingest = IngestOperator(task_id="ingest", pipeline=PIPELINE)
    validate = ValidateOperator(task_id="validate", pipeline=PIPELINE, outlets=[assets.validated_data(PIPELINE)])
    predict = BatchPredictOperator(task_id="predict", pipeline=PIPELINE, outlets=[assets.predictions(PIPELINE)])
    drift_check = DriftCheckOperator(task_id="drift_check", pipeline=PIPELINE)
    retraining_policy = RetrainingPolicyOperator(
        task_id="retraining_policy", pipeline=PIPELINE, outlets=[assets.retraining_request(PIPELINE)]
    )

    ingest >> validate >> predict >> drift_check >> retraining_policy
