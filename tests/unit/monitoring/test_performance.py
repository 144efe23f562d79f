from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_lifecycle.lake import Lake
from ml_lifecycle.monitoring import labelled_predictions, realized_performance, rollback_check
from ml_lifecycle.spec import PipelineSpec

START = date(2026, 10, 1)


def make_spec(**monitoring: object) -> PipelineSpec:
    return PipelineSpec.model_validate({
        "name": "churn",
        "id_column": "customer_id",
        "event_date_column": "event_date",
        "target": {"column": "churn", "positive_class": "Yes"},
        "features": {"numeric": ["tenure"]},
        "model": {"registered_name": "churn_classifier"},
        "decision_threshold": 0.35,
        "monitoring": {"window_days": 3, "min_rows": 300, "max_realized_drop": 0.05, **monitoring},
        "expectations": "expectations/churn.json",
    })


def day(number: int) -> str:
    return (START + timedelta(days=number - 1)).isoformat()


def write_day(lake: Lake, number: int, *, version: str, quality: float, rows: int = 200, label_delay: int = 3,
              seed: int | None = None) -> None:
    """Predictions of day ``number`` by ``version`` and their labels, arriving ``label_delay`` days later.

    ``quality`` is how far the score separates the classes: 0 is noise, 2 a good model.
    """
    rng = np.random.default_rng(seed if seed is not None else number)
    ds = day(number)
    ids = [f"C{number:02d}-{i:04d}" for i in range(rows)]
    churned = rng.random(rows) < 0.3
    score = 1.0 / (1.0 + np.exp(-(rng.normal(0.0, 1.0, rows) + quality * (churned - 0.5) - 0.8)))
    predictions = pd.DataFrame({
        "customer_id": ids, "event_date": ds, "score": score, "decision": score >= 0.35,
        "model_name": "churn_classifier", "model_version": version, "model_run_id": f"run{version}",
        "scored_at": pd.Timestamp("2026-10-01T00:00:00Z"),
    })
    labels = pd.DataFrame({"customer_id": ids, "event_date": ds, "churn": np.where(churned, "Yes", "No")})
    lake.publish_partition("predictions", "churn", ds,
                           lambda d: predictions.to_parquet(d / "predictions.parquet", index=False) and None)
    arrival = day(number + label_delay)
    existing = lake.partition_dir("labels", "churn", arrival) / "labels.parquet"
    if lake.is_complete(existing.parent):
        labels = pd.concat([pd.read_parquet(existing).drop(columns=["label_arrived_ds"]), labels], ignore_index=True)
    labels = labels.assign(label_arrived_ds=arrival)
    lake.publish_partition("labels", "churn", arrival, lambda d: labels.to_parquet(d / "labels.parquet", index=False) and None)


@pytest.fixture()
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path)


def test_realized_performance_per_event_date_version_and_window(lake: Lake) -> None:
    for number in range(1, 7):
        write_day(lake, number, version="1" if number <= 4 else "2", quality=2.0)
    spec = make_spec()
    summary = realized_performance(spec, lake, day(8))
    # Labels of days 1..5 have arrived by day 8 (3 days late); day 6's arrive on day 9.
    assert summary["labelled_rows"] == 5 * 200 and summary["event_dates"] == 5
    assert summary["window"]["from"] == day(3) and summary["window"]["to"] == day(5)
    assert summary["window"]["rows"] == 600
    assert summary["versions"] == {"1": {"rows": 800, "roc_auc": pytest.approx(summary["versions"]["1"]["roc_auc"])},
                                   "2": {"rows": 200, "roc_auc": pytest.approx(summary["versions"]["2"]["roc_auc"])}}
    assert 0.75 < summary["versions"]["1"]["roc_auc"] < 1.0
    report = json.loads(Path(summary["report_path"]).read_text())
    assert Path(summary["report_path"]) == lake.report_dir("churn", "performance", day(8)) / "performance.json"
    assert sorted(report["by_event_date"]) == [day(n) for n in range(1, 6)]
    assert set(report["by_event_date"][day(5)]["by_version"]) == {"2"}
    assert set(report["window"]["by_version"]) == {"1", "2"}
    for metric in ("rows", "positive_rate", "roc_auc", "pr_auc", "f1", "brier"):
        assert metric in report["by_event_date"][day(1)]["all"]
    # Re-running an earlier day sees only the labels that had arrived by then.
    assert realized_performance(spec, lake, day(5))["labelled_rows"] == 2 * 200


def test_labels_without_predictions_are_left_out(lake: Lake) -> None:
    write_day(lake, 1, version="1", quality=2.0)
    extra = pd.DataFrame({"customer_id": ["X1"], "event_date": [day(2)], "churn": ["Yes"], "label_arrived_ds": [day(5)]})
    lake.publish_partition("labels", "churn", day(5), lambda d: extra.to_parquet(d / "labels.parquet", index=False) and None)
    joined = labelled_predictions(make_spec(), lake, day(5))
    assert len(joined) == 200 and set(joined["event_date"]) == {day(1)}
    assert realized_performance(make_spec(), lake, day(1))["labelled_rows"] == 0  # nothing arrived yet


def test_a_worse_new_champion_is_rolled_back(lake: Lake) -> None:
    for number in range(1, 11):
        write_day(lake, number, version="1" if number <= 5 else "2", quality=2.5 if number <= 5 else 0.3)
    decision = rollback_check(make_spec(), lake, day(13))
    assert decision["rollback"] is True
    assert (decision["from_version"], decision["to_version"]) == ("2", "1")
    evidence = decision["evidence"]
    assert evidence["champion"]["rows"] == 1000 and evidence["previous"]["rows"] == 600  # its last 3 days
    assert evidence["drop"] > 0.05
    assert decision["reason"].startswith("roll back to v1: realized roc_auc of v2 is")
    assert json.loads(json.dumps(decision)) == decision


def test_an_equally_good_new_champion_is_kept(lake: Lake) -> None:
    for number in range(1, 11):
        write_day(lake, number, version="1" if number <= 5 else "2", quality=2.5)
    decision = rollback_check(make_spec(), lake, day(13))
    assert decision["rollback"] is False and decision["reason"].startswith("keep v2")


def test_no_rollback_without_enough_labelled_rows(lake: Lake) -> None:
    for number in range(1, 8):
        write_day(lake, number, version="1" if number <= 5 else "2", quality=2.5 if number <= 5 else 0.1)
    decision = rollback_check(make_spec(), lake, day(9))  # only day 6 of v2 is labelled: 200 rows
    assert decision["rollback"] is False
    assert "not enough evidence yet: v2 (champion) has 200 labelled row(s)" in decision["reason"]


def test_an_older_champion_is_not_judged_against_a_newer_one(lake: Lake) -> None:
    for number in range(1, 11):
        write_day(lake, number, version="2" if number <= 5 else "1", quality=2.5 if number <= 5 else 0.1)
    decision = rollback_check(make_spec(), lake, day(13))
    assert decision["rollback"] is False and "is not newer than v2" in decision["reason"]
    explicit = rollback_check(make_spec(), lake, day(13), champion_version="3", previous_version="2")
    assert explicit["rollback"] is False and "not enough evidence yet: v3" in explicit["reason"]


def test_no_champion_no_decision(lake: Lake) -> None:
    assert rollback_check(make_spec(), lake, day(3))["reason"].startswith("no champion has scored")
    write_day(lake, 1, version="1", quality=2.0)
    assert "no predecessor" in rollback_check(make_spec(), lake, day(4))["reason"]
