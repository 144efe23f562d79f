"""A day's retraining request is emitted once, even when the day is re-run (RetrainingPolicyOperator)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from ml_lifecycle import assets, monitoring, notifiers
from ml_lifecycle.operators import RetrainingPolicyOperator

DS = "2026-10-19"
DECIDED_AT = "2026-11-23T10:00:00+00:00"


class Events(list):
    """Stands in for Airflow's InletEventsAccessor: a list of events with ``after``."""

    def __init__(self, events: list[Any], seen: list[str]) -> None:
        super().__init__(events)
        self.seen = seen

    def after(self, when: str) -> Events:
        self.seen.append(when)
        return self


def _run(monkeypatch: pytest.MonkeyPatch, *, recorded_before: bool, events: list[Any]) -> tuple[Any, dict, list]:
    decision = {"ds": DS, "retrain": True, "reason": "drift on 2 of the last 3 days", "decided_at": DECIDED_AT,
                "recorded_before": recorded_before}
    monkeypatch.setattr(monitoring, "decide_and_record_retraining", lambda spec, lake, ds: dict(decision))
    monkeypatch.setattr(notifiers, "retraining_alert", lambda pipeline, decision: None)
    request = assets.retraining_request("churn")
    operator = RetrainingPolicyOperator(task_id="retraining_policy", pipeline="churn", outlets=[request],
                                        inlets=[request])
    seen: list[str] = []
    outlet_events: dict[Any, Any] = defaultdict(SimpleNamespace)
    context = {"dag_run": SimpleNamespace(logical_date=datetime(2026, 10, 19, tzinfo=UTC), run_after=None),
               "outlet_events": outlet_events, "inlet_events": {request: Events(events, seen)}}
    try:
        return operator.execute(context), outlet_events, seen  # type: ignore[arg-type]
    except AirflowSkipException as exc:
        return exc, outlet_events, seen


def test_a_first_decision_requests_without_looking_at_past_events(monkeypatch):
    result, outlet_events, seen = _run(monkeypatch, recorded_before=False, events=[])
    assert result["retrain"] is True and seen == []
    assert [event.extra["ds"] for event in outlet_events.values()] == [DS]


def test_a_rerun_whose_request_was_emitted_does_not_request_again(monkeypatch):
    emitted = SimpleNamespace(extra={"ds": DS, "reason": "drift"})
    result, outlet_events, seen = _run(monkeypatch, recorded_before=True, events=[emitted])
    assert isinstance(result, AirflowSkipException) and "not requested again" in str(result)
    assert seen == [DECIDED_AT] and not outlet_events


def test_a_retry_after_a_try_that_died_before_emitting_still_requests(monkeypatch):
    other_day = SimpleNamespace(extra={"ds": "2026-10-12", "reason": "drift"})
    result, outlet_events, seen = _run(monkeypatch, recorded_before=True, events=[other_day])
    assert result["retrain"] is True and seen == [DECIDED_AT]
    assert [event.extra["ds"] for event in outlet_events.values()] == [DS]
