"""
### churn_daily: score and watch each day's customers

Every day the telco's customer snapshot lands in `landing/churn/<ds>/`. This workflow

1. **ingest**: copies the drop to `raw/` with its sha256 as the data version (and keeps late labels);
2. **validate**: runs the Great Expectations suite `include/expectations/churn.json`; a bad batch is
   quarantined with its report and stops here;
3. **plan_scoring**: picks the model (the Param `model_version`, else the version that was champion
   at the end of the run's data interval, so a backfill scores with the model that was serving then),
   checks the partition's schema against its signature and cuts the partition into shards;
4. **score_shard** (mapped, one task per shard of at most `scoring.shard_rows` rows; a failed shard is
   retried alone) and **publish_predictions**: one `predictions/` partition, published atomically;
5. **shadow_score**: scores the day with the `challenger` too, when there is one, into `shadow/` with
   its agreement with the champion (the predictions are only read);
6. **drift_check**: compares the day with the champion's training sample (Evidently report);
7. **retraining_policy**: requests retraining (an Asset event that `churn_training` is scheduled on)
   when drift persists, outside the cool-down.

Backfill-friendly: each date writes only its own partitions, atomically. Settings live in
`include/pipelines/churn.yaml`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from ml_lifecycle import assets
from ml_lifecycle.operators import (
    DriftCheckOperator,
    IngestOperator,
    PlanScoringOperator,
    PublishPredictionsOperator,
    RetrainingPolicyOperator,
    ScoreShardOperator,
    ShadowScoreOperator,
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
    params={
        "model_version": Param(
            None, type=["null", "string"], description="Score with this registered version (empty: the champion "
            "at the end of the run's data interval)."
        )
    },
):
    ingest = IngestOperator(task_id="ingest", pipeline=PIPELINE)
    validate = ValidateOperator(task_id="validate", pipeline=PIPELINE, outlets=[assets.validated_data(PIPELINE)])
    plan = PlanScoringOperator(
        task_id="plan_scoring", pipeline=PIPELINE, model_version="{{ params.model_version or '' }}"
    )
    scored = ScoreShardOperator.partial(task_id="score_shard", pipeline=PIPELINE).expand(shard=plan.output)
    publish = PublishPredictionsOperator(
        task_id="publish_predictions", pipeline=PIPELINE, shards=plan.output, results=scored.output,
        outlets=[assets.predictions(PIPELINE)],
    )
    shadow_score = ShadowScoreOperator(task_id="shadow_score", pipeline=PIPELINE)
    drift_check = DriftCheckOperator(task_id="drift_check", pipeline=PIPELINE)
    retraining_policy = RetrainingPolicyOperator(
        task_id="retraining_policy", pipeline=PIPELINE, outlets=[assets.retraining_request(PIPELINE)]
    )

    ingest >> validate >> plan >> scored >> publish >> shadow_score >> drift_check >> retraining_policy
