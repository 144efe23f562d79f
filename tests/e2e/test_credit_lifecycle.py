"""The second pipeline, credit scoring, runs the same DAGs end to end with nothing but its own settings.

It shares no code path of its own: `include/pipelines/credit.yaml`, `include/expectations/credit.json`
and three short DAG files built from `ml_lifecycle.workflows`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import load_spec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle_dev.demo import DemoPlan, run_demo

pytestmark = pytest.mark.e2e

PLAN = DemoPlan(
    pipeline="credit",
    start=date(2026, 10, 1),
    days=9,  # ~495 applications a day
    label_delay_days=2,
    first_training_day=6,
    corrupt_day=7,
    drift_start_day=8,
    # The test session's state is fresh (tests/conftest.py); both pipelines share it, and a reset would
    # delete the MLflow store under this process's cached connections.
    reset_state=False,
)


@pytest.fixture(scope="module")
def outcome():
    exit_code = run_demo(PLAN)
    return exit_code, load_spec("credit"), Lake(), TrackingTarget.from_env().activate()


def test_credit_plan_ran_as_expected(outcome):
    exit_code, *_ = outcome
    assert exit_code == 0


def test_credit_champion_with_lineage(outcome):
    _, spec, _, client = outcome
    champion = client.get_model_version_by_alias("credit_default_classifier", "champion")
    assert champion.tags["pipeline"] == "credit"
    assert champion.tags["airflow.dag_id"] == "credit_training"
    assert champion.tags["gate.decision"] == "PROMOTE"
    assert client.get_run(champion.run_id).data.params["family"] == "logistic_regression"
    assert spec.target.positive_class == "bad"


def test_credit_predictions_and_drift(outcome):
    _, spec, lake, _ = outcome
    assert lake.partitions("predictions", "credit") == ["2026-10-08", "2026-10-09"]
    for ds in ("2026-10-08", "2026-10-09"):
        validated = pd.read_parquet(lake.partition_dir("validated", "credit", ds) / "data.parquet")
        predictions = pd.read_parquet(lake.partition_dir("predictions", "credit", ds) / "predictions.parquet")
        assert len(predictions) == len(validated)
        assert set(predictions[spec.id_column]) == set(validated[spec.id_column])
        assert (lake.report_dir("credit", "drift", ds) / "drift_report.html").is_file()
    assert lake.partitions("quarantine", "credit") == ["2026-10-07"]
