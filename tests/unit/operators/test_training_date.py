"""The asset-triggered training run trains as of the day its retraining request was made."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from airflow.sdk import Asset
from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

from ml_lifecycle import assets
from ml_lifecycle.operators import AssembleTrainingWindowOperator


def _event(asset: Asset, extra: dict[str, str]) -> AssetEventDagRunReferenceResult:
    return AssetEventDagRunReferenceResult.model_validate({
        "asset": {"name": asset.name, "uri": asset.uri, "extra": {}}, "extra": extra,
        "source_task_id": "retraining_policy", "source_dag_id": "churn_daily",
        "source_run_id": "backfill__2026-10-06T00:00:00+00:00", "source_map_index": -1, "source_aliases": [],
        "timestamp": datetime(2026, 12, 6, tzinfo=UTC)})


def _context(events: list[AssetEventDagRunReferenceResult]) -> dict[str, object]:
    return {"triggering_asset_events": TriggeringAssetEventsAccessor.build(events),
            "dag_run": SimpleNamespace(logical_date=None, run_after=datetime(2026, 12, 6, tzinfo=UTC))}


def test_the_latest_request_day_wins_over_the_run_date():
    request = assets.retraining_request("churn")
    operator = AssembleTrainingWindowOperator(task_id="assemble_window", pipeline="churn")
    events = [_event(request, {"ds": "2026-10-05"}), _event(request, {"ds": "2026-10-06", "reason": "x"}),
              _event(assets.validated_data("churn"), {"ds": "2026-12-05"})]
    assert operator.requested_date(_context(events)) == "2026-10-06"


def test_a_manual_run_has_no_request_day():
    operator = AssembleTrainingWindowOperator(task_id="assemble_window", pipeline="churn")
    assert operator.requested_date(_context([])) is None
    assert operator.requested_date({"dag_run": None}) is None
    assert AssembleTrainingWindowOperator.run_date(_context([])) == "2026-12-06"
