"""Batch inference at scale: shards, byte-identical re-runs, the schema guard, backfills and shadow scoring."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_lifecycle.exceptions import NoChallenger, ScoringSchemaMismatch
from ml_lifecycle.inference import (
    plan_scoring,
    publish_predictions,
    score_partition,
    score_shard,
    shadow_score,
    shard_ranges,
)
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.registry import Verdict, apply_verdict, champion_at, set_alias
from ml_lifecycle.spec import FeatureSpec, PipelineSpec, ScoringSpec, load_spec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import assemble_window, train_and_register
from support import local_tracking, validated_lake

START = date(2024, 6, 1)
DAYS = 6
PINNED = datetime(2024, 6, 7, tzinfo=UTC)


def ds_of(day_number: int) -> str:
    return (START + timedelta(days=day_number - 1)).isoformat()


DAY_A, DAY_B = ds_of(5), ds_of(6)


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def lake(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return validated_lake(spec, tmp_path_factory.mktemp("lake"), start=START, days=DAYS, label_delay_days=2,
                          seed=5)[0]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return local_tracking(tmp_path_factory.mktemp("mlflow"))


def _train_and_promote(spec: PipelineSpec, lake: Lake, target: TrackingTarget, as_of: str,
                       previous: str | None) -> dict[str, Any]:
    trained = train_and_register(spec, assemble_window(spec, lake, as_of), target, {})
    verdict = Verdict("PROMOTE", ["unit test"], trained["version"], previous)
    apply_verdict(spec, target, verdict, actor="unit-test", lineage={})
    return trained


@pytest.fixture(scope="module")
def v1(spec: PipelineSpec, lake: Lake, target: TrackingTarget) -> dict[str, Any]:
    return _train_and_promote(spec, lake, target, ds_of(4), None)


def _frame(path: str | Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_shard_ranges_cover_every_row_once_and_respect_the_limit() -> None:
    assert shard_ranges([], 10) == [(0, 0)]
    assert shard_ranges([0], 10) == [(0, 0)]
    assert shard_ranges([4, 3, 5], 10) == [(0, 7), (7, 12)]  # whole row groups packed together
    ranges = shard_ranges([25, 4], 10)
    assert ranges == [(0, 8), (8, 16), (16, 25), (25, 29)]  # a large row group cut evenly
    for rows, limit in [([1_048_576] * 5, 500_000), ([7, 100, 3, 3], 9), ([10] * 7, 25)]:
        ranges = shard_ranges(rows, limit)
        assert ranges[0][0] == 0 and ranges[-1][1] == sum(rows)
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert all(0 < stop - start <= limit for start, stop in ranges)


def test_rerun_with_the_same_scored_at_is_byte_for_byte_identical(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any]
) -> None:
    first = score_partition(spec, lake, DAY_A, target, scored_at=PINNED)
    digest = _sha(first["predictions_path"])
    again = score_partition(spec, lake, DAY_A, target, scored_at=PINNED)
    assert again["predictions_path"] == first["predictions_path"] and _sha(again["predictions_path"]) == digest
    assert _frame(again["predictions_path"])["scored_at"].eq(pd.Timestamp(PINNED)).all()
    meta = lake.partition_metadata("predictions", spec.name, DAY_A)
    assert meta["scored_at"] == PINNED.isoformat() and meta["shards"] == 1 and meta["model_version"] == v1["version"]
    zone = lake.zone_dir("predictions", spec.name)
    assert [p.name for p in zone.iterdir()] == [f"ds={DAY_A}"]  # no shard, staging or retired folders left


def test_fan_out_publishes_one_partition_only_when_every_shard_is_scored(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any]
) -> None:
    single = _frame(score_partition(spec, lake, DAY_B, target, scored_at=PINNED)["predictions_path"])
    published = lake.partition_dir("predictions", spec.name, DAY_B) / "predictions.parquet"
    before = _sha(published)
    small = spec.model_copy(update={"scoring": ScoringSpec(threads=1, batch_rows=64, shard_rows=300)})
    shards = plan_scoring(small, lake, DAY_B, target, run_key="manual__x_1", scored_at=PINNED)
    assert len(shards) == -(-len(single) // 300) >= 2
    assert all(s["row_stop"] - s["row_start"] <= 300 for s in shards)
    results = [score_shard(small, lake, s, target) for s in shards[1:]]
    with pytest.raises(RuntimeError, match=r"shards \[0\]"):  # one shard failed: nothing is published
        publish_predictions(small, lake, shards, results)
    assert _sha(published) == before
    results.append(score_shard(small, lake, shards[0], target))  # the failed shard retried alone
    out = publish_predictions(small, lake, shards, results)
    assert out["shards"] == len(shards) and out["rows"] == len(single)
    pd.testing.assert_frame_equal(_frame(out["predictions_path"]), single)
    partition = lake.partition_dir("predictions", spec.name, DAY_B)
    assert sorted(p.name for p in partition.iterdir()) == [SUCCESS_MARKER, "predictions.parquet"]
    assert not (lake.zone_dir("predictions", spec.name) / ".shards").exists()


def test_in_process_scoring_fans_shards_out_to_worker_processes_with_the_same_result(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any]
) -> None:
    one_process = _frame(score_partition(spec, lake, DAY_B, target, scored_at=PINNED)["predictions_path"])
    pooled = spec.model_copy(update={"scoring": ScoringSpec(threads=1, batch_rows=64, shard_rows=200,
                                                            local_processes=2)})
    out = score_partition(pooled, lake, DAY_B, target, scored_at=PINNED)
    assert out["shards"] >= 2
    pd.testing.assert_frame_equal(_frame(out["predictions_path"]), one_process)
    assert not (lake.zone_dir("predictions", spec.name) / ".shards").exists()


def test_schema_mismatch_names_the_columns_and_writes_nothing(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any], tmp_path: Path
) -> None:
    other = Lake(tmp_path / "lake")
    frame = _frame(lake.require_partition("validated", spec.name, DAY_A) / "data.parquet")
    frame = frame.drop(columns=["partner"]).assign(tenure=frame["tenure"].astype(str), loyalty_points=1.0)

    def write(folder: Path) -> dict[str, Any]:
        frame.to_parquet(folder / "data.parquet", index=False)
        return {"data_version": "x"}

    other.publish_partition("validated", spec.name, DAY_A, write)
    wider = spec.model_copy(update={"features": FeatureSpec(
        numeric=[*spec.features.numeric, "loyalty_points"], binary=spec.features.binary,
        categorical=spec.features.categorical)})
    with pytest.raises(ScoringSchemaMismatch, match="partner") as caught:
        score_partition(wider, other, DAY_A, target)
    assert caught.value.missing == ["partner"]
    assert caught.value.extra == ["loyalty_points"]
    assert caught.value.mistyped == ["tenure (string, model expects double)"]
    assert not other.zone_dir("predictions", spec.name).exists()


@pytest.fixture(scope="module")
def backfill(spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any]) -> dict[str, Any]:
    """Score day A while v1 serves, promote v2, then re-score day A as a backfill at the same moment."""
    moment = datetime.now(UTC)
    first = score_partition(spec, lake, DAY_A, target, moment=moment)
    original = _frame(first["predictions_path"])
    v2 = _train_and_promote(spec, lake, target, ds_of(6), v1["version"])
    again = score_partition(spec, lake, DAY_A, target, moment=moment)
    return {"moment": moment, "first": first, "original": original, "again": again, "v2": v2}


def test_backfill_scores_with_the_champion_of_its_moment(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any], backfill: dict[str, Any]
) -> None:
    v2 = backfill["v2"]
    assert champion_at(spec, target, backfill["moment"]) == v1["version"]
    assert champion_at(spec, target, datetime.now(UTC)) == v2["version"]
    assert champion_at(spec, target, datetime(2000, 1, 1, tzinfo=UTC)) is None
    again = backfill["again"]
    assert again["model_version"] == v1["version"] and again["model_source"] == "champion_at"
    pd.testing.assert_frame_equal(_frame(again["predictions_path"]).drop(columns="scored_at"),
                                  backfill["original"].drop(columns="scored_at"))
    # today's run scores with v2; a pinned version wins over the moment; nothing served in 2000: current
    assert score_partition(spec, lake, DAY_A, target)["model_version"] == v2["version"]
    pinned = score_partition(spec, lake, DAY_A, target, moment=datetime.now(UTC), model_version=v1["version"])
    assert (pinned["model_version"], pinned["model_source"]) == (v1["version"], "pinned")
    early = score_partition(spec, lake, DAY_A, target, moment="2000-01-01T00:00:00+00:00")
    assert (early["model_version"], early["model_source"]) == (v2["version"], "current_champion")


def test_shadow_scoring_compares_the_challenger_and_leaves_predictions_alone(
    spec: PipelineSpec, lake: Lake, target: TrackingTarget, v1: dict[str, Any], backfill: dict[str, Any]
) -> None:
    import mlflow

    v2 = backfill["v2"]
    scored = score_partition(spec, lake, DAY_B, target)
    assert scored["model_version"] == v2["version"]
    predictions = Path(scored["predictions_path"])
    digest, marker = _sha(predictions), (predictions.parent / SUCCESS_MARKER).read_bytes()

    client = target.activate()
    if _has_challenger(spec, target):  # training gave the last version the alias; promotion may have dropped it
        client.delete_registered_model_alias(spec.model.registered_name, "challenger")
    with pytest.raises(NoChallenger):
        shadow_score(spec, lake, DAY_B, target)
    set_alias(spec, target, "challenger", v2["version"], action="candidate", actor="unit-test", reason="same as champion")
    with pytest.raises(NoChallenger):  # the challenger is the model that scored the predictions
        shadow_score(spec, lake, DAY_B, target)
    set_alias(spec, target, "challenger", v1["version"], action="candidate", actor="unit-test", reason="shadow test")

    result = shadow_score(spec, lake, DAY_B, target, lineage={"airflow.dag_id": "churn_daily"})
    assert _sha(predictions) == digest and (predictions.parent / SUCCESS_MARKER).read_bytes() == marker
    shadow_dir = lake.partition_dir("shadow", spec.name, DAY_B)
    assert Path(result["shadow_path"]) == shadow_dir / "shadow.parquet"
    shadow = _frame(result["shadow_path"])
    champion = _frame(predictions)
    assert shadow[spec.id_column].tolist() == champion[spec.id_column].tolist()
    assert (shadow["model_version"] == v1["version"]).all()
    stats = json.loads((shadow_dir / "agreement.json").read_text())
    assert stats["rows"] == len(champion) and stats["challenger_version"] == v1["version"]
    assert stats["champion_version"] == v2["version"]
    assert 0.0 < stats["pearson"] <= 1.0 and 0.0 <= stats["decision_agreement"] <= 1.0
    assert 0.0 <= stats["ks_statistic"] <= 1.0
    expected_shift = shadow["score"].mean() - champion["score"].mean()
    assert stats["mean_shift"] == pytest.approx(expected_shift)
    assert stats["decision_agreement"] == pytest.approx((shadow["decision"] == champion["decision"]).mean())
    run = mlflow.get_run(result["monitoring_run_id"])
    assert run.data.tags["champion_version"] == v2["version"] and run.data.tags["challenger_version"] == v1["version"]
    assert run.data.metrics["decision_agreement"] == pytest.approx(stats["decision_agreement"])
    assert client.get_experiment(run.info.experiment_id).name == f"{spec.name}-monitoring"


def _has_challenger(spec: PipelineSpec, target: TrackingTarget) -> bool:
    from ml_lifecycle.registry import aliased_version

    return aliased_version(spec, target, "challenger") is not None
