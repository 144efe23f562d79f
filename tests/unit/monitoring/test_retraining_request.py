from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ml_lifecycle.lake import DECISION_JSON, DRIFT_JSON, Lake, write_json
from ml_lifecycle.monitoring import decide_and_record_retraining, realized_window
from ml_lifecycle.spec import load_spec

START = date(2026, 10, 1)


def day(number: int) -> str:
    return (START + timedelta(days=number - 1)).isoformat()


def publish(lake: Lake, kind: str, ds: str, name: str, payload: dict[str, Any]) -> None:
    lake.publish_report("churn", kind, ds, lambda d: write_json(d / name, payload) and None)


@pytest.fixture()
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path)


def test_a_month_of_persistent_drift_records_one_request(lake: Lake) -> None:
    """The daily policy over the demo's month, reading and writing the lake like the DAG does."""
    spec = load_spec("churn")
    lake.publish_partition("training", "churn", day(11), lambda d: None)  # the bootstrap model of day 10
    requests = []
    for number in range(1, 31):
        publish(lake, "drift", day(number), DRIFT_JSON, {"dataset_drift": number >= 18})
        record = decide_and_record_retraining(spec, lake, day(number))
        if record["retrain"]:
            requests.append(day(number))
            lake.publish_partition("training", "churn", day(number + 1), lambda d: None)
    assert requests == [day(19)]
    kept = json.loads((lake.report_dir("churn", "retraining", day(25)) / DECISION_JSON).read_text())
    assert kept["retrain"] is False and kept["blocked_by"] == "cooldown"
    assert kept["inputs"]["requests"] == [day(19)] and kept["inputs"]["trainings"] == [day(11), day(20)]
    assert len(lake.reports("churn", "retraining")) == 30  # every decision is kept, trigger or not


def test_realized_performance_of_the_latest_version_can_trigger(lake: Lake) -> None:
    spec = load_spec("churn")
    window = {"from": day(1), "to": day(7), "rows": 1600, "roc_auc": 0.69,
              "by_version": {"1": {"rows": 1400, "roc_auc": 0.80}, "2": {"rows": 600, "roc_auc": 0.62}}}
    publish(lake, "performance", day(10), "performance.json", {
        "ds": day(10), "window": window,
        "by_event_date": {day(7): {"all": {}, "by_version": {"2": {}}}},
    })
    realized = realized_window(spec, lake, up_to=day(12))
    assert realized is not None and realized["model_version"] == "2" and realized["rows"] == 600
    record = decide_and_record_retraining(spec, lake, day(12))
    assert record["retrain"] is True and record["trigger"] == "performance"
    assert record["inputs"]["realized"]["roc_auc"] == 0.62
    assert realized_window(spec, lake, up_to=day(9)) is None
