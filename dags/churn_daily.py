"""
### churn_daily: score and watch each day's customers

Every day the telco's customer snapshot lands in `landing/churn/<ds>/`. This workflow

0. **wait_for_landing**: waits (in reschedule mode, holding no worker slot) until the day's drop is
   complete (`_SUCCESS`), for `[ml_lifecycle] landing_timeout` seconds at most;
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
6. **drift_check**: compares the day with the champion's training sample (Evidently report, PSI);
7. **realized_performance**: joins the labels that arrived today with the predictions of their days;
   rolls a new champion back automatically when it does worse than its predecessor;
8. **retraining_policy**: requests retraining (an Asset event that `churn_training` is scheduled on)
   when drift persists on N of the last M days or realized performance falls below its floor, within
   the cool-downs and the weekly cap.

Backfill-friendly: each date writes only its own partitions, atomically. Past days run only when asked
(`airflow backfill create --dag-id churn_daily --from-date ... --to-date ...`), never on unpause (no catchup).
Settings live in `include/pipelines/churn.yaml`; the tasks come from `ml_lifecycle.workflows.daily_tasks`, which returns
them so you can wire your own in, e.g. `tasks = daily_tasks(PIPELINE); tasks.validate >> my_check`.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle.workflows import DAILY_MAX_ACTIVE_RUNS, daily_params, daily_tasks, default_args

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,  # past days are filled with `airflow backfill create`, never by surprise on unpause
    max_active_runs=DAILY_MAX_ACTIVE_RUNS,  # days still run in date order: wait_for_landing waits for the day before
    tags=["ml-lifecycle", PIPELINE, "scoring"],
    default_args=default_args("ml-platform", PIPELINE),
    params=daily_params(),
):
    daily_tasks(PIPELINE)
