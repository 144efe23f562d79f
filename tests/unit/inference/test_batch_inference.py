"""Batch inference: a validated partition scored by the registered champion, published atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_lifecycle.exceptions import NoChampion, PartitionNotFound
from ml_lifecycle.inference import score_partition
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.registry import apply_verdict, evaluate_candidate, judge, smoke_test
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import assemble_window, model_input, smoke_sample, train_and_register
from support import local_tracking, validated_lake

START = date(2024, 6, 1)
DAYS = 6
CORRUPT_DAY = 5
COLUMNS = ["customer_id", "event_date", "score", "decision", "model_name", "model_version", "model_run_id",
           "scored_at"]


def ds_of(day_number: int) -> str:
    return (START + timedelta(days=day_number - 1)).isoformat()


SCORED_DS = ds_of(DAYS)  # a day the model never saw: its labels have not arrived


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def lake(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """6 days, labels 2 days late, day 5 broken (quarantined, so it has no validated partition)."""
    return validated_lake(spec, tmp_path_factory.mktemp("lake"), start=START, days=DAYS, label_delay_days=2,
                          corrupt_days=frozenset({CORRUPT_DAY}), seed=9)[0]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return local_tracking(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture(scope="module")
def champion(spec: PipelineSpec, lake: Lake, target: TrackingTarget) -> dict[str, Any]:
    """One model trained on the window as of the scored day and promoted through the gate."""
    window = assemble_window(spec, lake, SCORED_DS)
    assert SCORED_DS not in window["partitions"]
    trained = train_and_register(spec, window, target, {"airflow.dag_id": "churn_training"})
    evaluation = evaluate_candidate(spec, target, candidate_version=trained["version"],
                                    holdout_path=window["holdout_path"])
    passed, _ = smoke_test(spec, target, trained["version"], smoke_sample(spec, window["holdout_path"]))
    verdict = judge(spec, evaluation, smoke_test_passed=passed)
    assert apply_verdict(spec, target, verdict, actor="unit-test", lineage={})["decision"] == "PROMOTE"
    return trained


@pytest.fixture(scope="module")
def scored(spec: PipelineSpec, lake: Lake, target: TrackingTarget, champion: dict[str, Any]) -> dict[str, Any]:
    return score_partition(spec, lake, SCORED_DS, target)


def validated(spec: PipelineSpec, lake: Lake, ds: str) -> pd.DataFrame:
    return pd.read_parquet(lake.require_partition("validated", spec.name, ds) / "data.parquet")


def predictions(result: dict[str, Any]) -> pd.DataFrame:
    return pd.read_parquet(result["predictions_path"])


def test_one_row_per_validated_row_with_the_documented_columns(
    spec: PipelineSpec, lake: Lake, scored: dict[str, Any], champion: dict[str, Any]
) -> None:
    source = validated(spec, lake, SCORED_DS)
    out = predictions(scored)
    assert list(out.columns) == COLUMNS == [spec.id_column, spec.event_date_column, *COLUMNS[2:]]
    assert len(out) == len(source) == scored["rows"]
    assert out[spec.id_column].tolist() == source[spec.id_column].tolist()
    assert (out[spec.event_date_column] == SCORED_DS).all()
    assert (out["model_name"] == spec.model.registered_name).all()
    assert (out["model_version"] == champion["version"]).all()
    assert (out["model_run_id"] == champion["run_id"]).all()
    assert out["scored_at"].nunique() == 1
    scored_at = out["scored_at"].iloc[0]
    assert str(scored_at.tz) == "UTC" and abs(datetime.now(UTC) - scored_at) < timedelta(minutes=10)
    assert scored["model_version"] == champion["version"] and scored["model_run_id"] == champion["run_id"]


def test_scores_are_the_champions_probabilities_and_decisions_follow_the_threshold(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, scored: dict[str, Any]
) -> None:
    import mlflow

    out = predictions(scored)
    target.activate()
    model = mlflow.sklearn.load_model(f"models:/{spec.model.registered_name}@champion")
    expected = model.predict_proba(model_input(spec, validated(spec, lake, SCORED_DS)))[:, 1]
    np.testing.assert_allclose(out["score"].to_numpy(), expected)
    assert out["score"].between(0, 1).all()
    assert (out["decision"] == (out["score"] >= spec.decision_threshold)).all()
    assert 0 < out["decision"].sum() < len(out)  # the threshold actually separates customers
    assert scored["predicted_positive"] == int(out["decision"].sum())
    meta = lake.partition_metadata("predictions", spec.name, SCORED_DS)
    assert meta["rows"] == len(out) and meta["positives"] == scored["predicted_positive"]
    assert meta["input_data_version"] == lake.partition_metadata("validated", spec.name, SCORED_DS)["data_version"]


def test_rescoring_replaces_the_partition(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, scored: dict[str, Any]
) -> None:
    first = predictions(scored)
    again = score_partition(spec, lake, SCORED_DS, target)
    second = predictions(again)

    assert again["predictions_path"] == scored["predictions_path"]
    assert len(second) == len(first)
    assert second[spec.id_column].is_unique
    pd.testing.assert_frame_equal(second.drop(columns="scored_at"), first.drop(columns="scored_at"))
    assert second["scored_at"].iloc[0] >= first["scored_at"].iloc[0]
    zone = lake.zone_dir("predictions", spec.name)
    assert [p.name for p in zone.iterdir()] == [f"ds={SCORED_DS}"]  # no staging or retired folders
    assert sorted(p.name for p in (zone / f"ds={SCORED_DS}").iterdir()) == [SUCCESS_MARKER, "predictions.parquet"]


def test_scoring_another_day_writes_its_own_partition(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, scored: dict[str, Any]
) -> None:
    other = score_partition(spec, lake, ds_of(1), target)
    assert other["rows"] == len(validated(spec, lake, ds_of(1)))
    assert lake.partitions("predictions", spec.name) == [ds_of(1), SCORED_DS]
    assert predictions(scored)[spec.event_date_column].eq(SCORED_DS).all()


def test_no_champion_alias_raises_no_champion(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, champion: dict[str, Any]
) -> None:
    client = target.activate()
    name = spec.model.registered_name
    client.delete_registered_model_alias(name, "champion")
    try:
        with pytest.raises(NoChampion, match=name):
            score_partition(spec, lake, ds_of(2), target)
    finally:
        client.set_registered_model_alias(name, "champion", champion["version"])
    assert ds_of(2) not in lake.partitions("predictions", spec.name)


@pytest.mark.parametrize("day", [CORRUPT_DAY, DAYS + 3])
def test_a_missing_validated_partition_raises_partition_not_found(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, champion: dict[str, Any], day: int
) -> None:
    with pytest.raises(PartitionNotFound, match=f"ds={ds_of(day)}"):
        score_partition(spec, lake, ds_of(day), target)
    assert ds_of(day) not in lake.partitions("predictions", spec.name)
