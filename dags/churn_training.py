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

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from ml_lifecycle import assets
from ml_lifecycle.workflows import default_args, training_params, training_tasks

PIPELINE = "churn"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule=[assets.retraining_request(PIPELINE)],  # no cron: every retraining passes the policy
    start_date=pendulum.datetime(2026, 10, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ml-lifecycle", PIPELINE, "training"],
    default_args=default_args("ml-platform", PIPELINE, retries=1),
    params=training_params(),
):
    training_tasks(PIPELINE)
