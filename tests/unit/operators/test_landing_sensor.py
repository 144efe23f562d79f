"""wait_for_landing: the day's drop must be complete, and the run of the day before finished (days run in
date order however the runs were made); a timeout names what it waited for."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.api.datamodels._generated import DagRunState

from ml_lifecycle.lake import Lake
from ml_lifecycle.operators.sensors import LandingSensor

DS = "2026-10-06"


class FakeTaskInstance:
    def __init__(self, previous: object | None) -> None:
        self.previous = previous
        self.asked = 0

    def get_previous_dagrun(self, state: str | None = None) -> object | None:
        self.asked += 1
        return self.previous


def _context(previous: object | None) -> dict[str, object]:
    return {"ti": FakeTaskInstance(previous),
            "dag_run": SimpleNamespace(logical_date=datetime(2026, 10, 6, tzinfo=UTC), run_after=None)}


def _previous(state: DagRunState) -> SimpleNamespace:
    return SimpleNamespace(run_id="backfill__2026-10-05T00:00:00+00:00", state=state)


@pytest.fixture
def lake_root(tmp_path):
    root = tmp_path / "lake"
    landing = Lake(str(root)).landing_dir("churn", DS)
    landing.mkdir(parents=True)
    (landing / "features.csv").write_text("customer_id\n1\n")
    return root


def _sensor(lake_root, **kwargs) -> LandingSensor:
    return LandingSensor(task_id="wait_for_landing", pipeline="churn", lake_root=str(lake_root), timeout=60,
                         mode="reschedule", **kwargs)


def test_an_incomplete_drop_is_waited_for_without_asking_about_the_day_before(lake_root):
    context = _context(_previous(DagRunState.SUCCESS))
    sensor = _sensor(lake_root)
    assert sensor.poke(context) is False
    assert context["ti"].asked == 0 and sensor.waiting_for is None
    assert "has no _SUCCESS marker" in sensor._timeout_message(context)
    assert "landing/churn/2026-10-06" in sensor._timeout_message(context)


@pytest.mark.parametrize("state", [DagRunState.RUNNING, DagRunState.QUEUED])
def test_a_complete_drop_waits_while_the_day_before_is_unfinished(lake_root, state):
    (Lake(str(lake_root)).landing_dir("churn", DS) / "_SUCCESS").write_text("")
    context = _context(_previous(state))
    sensor = _sensor(lake_root)
    assert sensor.poke(context) is False
    assert sensor.waiting_for == f"backfill__2026-10-05T00:00:00+00:00, {state.value}"
    message = sensor._timeout_message(context)
    assert "the run of the day before (backfill__2026-10-05T00:00:00+00:00" in message
    assert "days run in date order" in message


@pytest.mark.parametrize("previous", [None, _previous(DagRunState.SUCCESS), _previous(DagRunState.FAILED)])
def test_a_complete_drop_goes_on_once_the_day_before_has_finished_or_there_is_none(lake_root, previous):
    (Lake(str(lake_root)).landing_dir("churn", DS) / "_SUCCESS").write_text("")
    assert _sensor(lake_root).poke(_context(previous)) is True


def test_the_order_guard_can_be_turned_off(lake_root):
    (Lake(str(lake_root)).landing_dir("churn", DS) / "_SUCCESS").write_text("")
    context = _context(_previous(DagRunState.RUNNING))
    assert _sensor(lake_root, in_date_order=False).poke(context) is True
    assert context["ti"].asked == 0
