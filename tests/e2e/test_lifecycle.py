"""Both DAGs run through Airflow (DAG.test) on a short simulated window with a real MLflow SQLite store.

What a user would check afterwards: a champion in the registry with lineage back to the data and the
Airflow run, a predictions partition per scored day with one row per validated row, drift reports on
disk, a quarantined bad day that left the champion alone, and every run recorded in Airflow's DB.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import load_spec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle_dev.demo import DemoPlan, run_demo

pytestmark = pytest.mark.e2e

PLAN = DemoPlan(
    pipeline="churn",
    start=date(2026, 10, 1),
    days=9,  # ~780 rows a day
    label_delay_days=2,
    first_training_day=6,  # labels of days 1-4 have arrived by then
    corrupt_day=7,  # after the first promotion: the champion must stay untouched
    drift_start_day=8,
    # The test session's state is fresh (tests/conftest.py); both pipelines share it, and a reset would
    # delete the MLflow store under this process's cached connections.
    reset_state=False,
)


@pytest.fixture(scope="module")
def outcome():
    exit_code = run_demo(PLAN)
    spec = load_spec("churn")
    return exit_code, spec, Lake(), TrackingTarget.from_env().activate()


def test_demo_plan_ran_as_expected(outcome):
    exit_code, *_ = outcome
    assert exit_code == 0


def test_champion_is_registered_with_lineage(outcome):
    _, spec, lake, client = outcome
    champion = client.get_model_version_by_alias(spec.model.registered_name, "champion")
    tags = champion.tags
    assert tags["gate.decision"] == "PROMOTE"
    assert tags["airflow.dag_id"] == "churn_training"
    assert tags["airflow.run_id"].startswith("manual__")
    assert tags["training_as_of"] == "2026-10-06"
    # data versions are the sha256 of the raw files that went into the window
    versions = dict(item.split(":") for item in tags["data_versions"].split(","))
    assert set(versions) == {"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"}
    for ds, short in versions.items():
        assert lake.partition_metadata("validated", "churn", ds)["data_version"].startswith(short)
    assert tags["spec_hash"] == spec.spec_hash
    run = client.get_run(champion.run_id)
    assert run.data.metrics["holdout_roc_auc"] >= spec.gate.floors["roc_auc"]


def test_predictions_cover_every_validated_row(outcome):
    _, spec, lake, _ = outcome
    scored_days = lake.partitions("predictions", "churn")
    # the first champion is promoted after day 6's run; day 7 was quarantined
    assert scored_days == ["2026-10-08", "2026-10-09"]
    for ds in scored_days:
        validated = pd.read_parquet(lake.partition_dir("validated", "churn", ds) / "data.parquet")
        predictions = pd.read_parquet(lake.partition_dir("predictions", "churn", ds) / "predictions.parquet")
        assert len(predictions) == len(validated)
        assert set(predictions[spec.id_column]) == set(validated[spec.id_column])
        assert predictions["model_version"].unique().tolist() == ["1"]
        assert ((predictions["score"] >= spec.decision_threshold) == predictions["decision"]).all()


def test_drift_reports_on_disk_and_drift_detected(outcome):
    _, _, lake, _ = outcome
    assert lake.reports("churn", "drift") == ["2026-10-08", "2026-10-09"]
    verdicts = {}
    for ds in lake.reports("churn", "drift"):
        folder = lake.report_dir("churn", "drift", ds)
        assert (folder / "drift_report.html").stat().st_size > 10_000
        verdicts[ds] = json.loads((folder / "drift_metrics.json").read_text())["dataset_drift"]
    assert verdicts == {"2026-10-08": True, "2026-10-09": True}  # drift injected from day 8
    decision = json.loads((lake.report_dir("churn", "retraining", "2026-10-09") / "decision.json").read_text())
    assert decision["retrain"] is False and "max_per_week=1" in decision["reason"]  # trained 3 days earlier


def test_bad_day_is_quarantined_and_the_champion_untouched(outcome):
    _, spec, lake, client = outcome
    assert lake.partitions("quarantine", "churn") == ["2026-10-07"]
    assert "2026-10-07" not in lake.partitions("validated", "churn")
    rejected = pd.read_parquet(lake.partition_dir("quarantine", "churn", "2026-10-07") / "rejected.parquet")
    raw_rows = lake.partition_metadata("raw", "churn", "2026-10-07")["current"]["rows"]
    assert len(rejected) == raw_rows  # nothing lost
    versions = client.search_model_versions(f"name='{spec.model.registered_name}'")
    assert len(versions) == 1
    assert str(client.get_model_version_by_alias(spec.model.registered_name, "champion").version) == "1"


def test_runs_are_recorded_in_airflow(outcome):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        daily = {str(r.logical_date.date()): str(r.state) for r in session.query(DagRun).filter_by(dag_id="churn_daily")}
        training = [str(r.state) for r in session.query(DagRun).filter_by(dag_id="churn_training")]
        validate_state = session.query(TaskInstance).filter_by(
            dag_id="churn_daily", task_id="validate", run_id="manual__2026-10-08T00:00:00+00:00"
        ).one().state
        predict_state = session.query(TaskInstance).filter_by(
            dag_id="churn_daily", task_id="publish_predictions", run_id="manual__2026-10-08T00:00:00+00:00"
        ).one().state
    assert len(daily) == PLAN.days
    assert daily["2026-10-07"] == "failed"
    assert all(state == "success" for ds, state in daily.items() if ds != "2026-10-07")
    assert training == ["success"]
    assert str(validate_state) == "failed" and str(predict_state) == "upstream_failed"


def test_gate_verdict_model_card_and_alias_history(outcome):
    from ml_lifecycle.registry import alias_history

    _, spec, lake, client = outcome
    champion = client.get_model_version_by_alias(spec.model.registered_name, "champion")
    assert champion.tags["validation_summary"].startswith("partitions=4 ")
    assert "no champion yet" in champion.tags["gate.reasons"]
    card = lake.zone_dir("reports", "churn") / "model_cards" / "v1.md"
    assert "## Gate verdict" in card.read_text() and (card.parent / "v1.html").is_file()
    moves = [(e["from_version"], e["to_version"], e["action"]) for e in alias_history(spec, TrackingTarget.from_env())]
    assert moves == [("none", "1", "promote")]
