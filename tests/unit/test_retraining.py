from __future__ import annotations

from datetime import date, timedelta

import pytest

from ml_lifecycle.retraining import RetrainingDecision, decide_retraining, drift_streak
from ml_lifecycle.spec import RetrainingSpec

POLICY = RetrainingSpec(persistence_days=2, cooldown_days=7)


def history(start: str, verdicts: str) -> dict[str, bool]:
    """``"DD.D"`` from ``start``: D drifted, ``.`` not drifted, ``_`` not observed."""
    first = date.fromisoformat(start)
    return {
        (first + timedelta(days=offset)).isoformat(): mark == "D"
        for offset, mark in enumerate(verdicts)
        if mark != "_"
    }


def decide(
    ds: str,
    drift_history: dict[str, bool],
    *,
    last_request_ds: str | None = None,
    last_training_ds: str | None = None,
    policy: RetrainingSpec = POLICY,
) -> RetrainingDecision:
    return decide_retraining(
        ds=ds,
        drift_history=drift_history,
        last_request_ds=last_request_ds,
        last_training_ds=last_training_ds,
        policy=policy,
    )


def test_drift_on_enough_consecutive_days_requests_retraining() -> None:
    decision = decide("2024-03-05", history("2024-03-01", "...DD"))
    assert decision.retrain is True
    assert decision.drift_streak == 2
    assert "drift on 2 consecutive day(s) ending 2024-03-05" in decision.reason
    assert "requesting retraining" in decision.reason


def test_a_single_drifted_day_is_not_enough() -> None:
    decision = decide("2024-03-05", history("2024-03-01", "D.D.D"))
    assert decision.retrain is False
    assert decision.drift_streak == 1
    assert "2 needed" in decision.reason


def test_a_day_without_drift_today_means_no_streak() -> None:
    decision = decide("2024-03-05", history("2024-03-01", "DDDD."))
    assert decision.retrain is False
    assert decision.drift_streak == 0


def test_a_missing_day_breaks_the_streak() -> None:
    drift_history = history("2024-03-01", "DD_D")
    assert "2024-03-03" not in drift_history
    decision = decide("2024-03-04", drift_history)
    assert decision.retrain is False
    assert decision.drift_streak == 1


def test_the_streak_counts_every_consecutive_drifted_day() -> None:
    assert drift_streak(date(2024, 3, 6), history("2024-03-01", ".DDDDD")) == 5
    assert drift_streak(date(2024, 3, 6), {}) == 0


def test_longer_persistence_waits_for_more_days() -> None:
    policy = RetrainingSpec(persistence_days=3, cooldown_days=7)
    assert decide("2024-03-02", history("2024-03-01", "DD"), policy=policy).retrain is False
    assert decide("2024-03-03", history("2024-03-01", "DDD"), policy=policy).retrain is True


def test_cooldown_after_a_request_blocks_the_next_one() -> None:
    drift_history = history("2024-03-01", "DDDDDDDDDD")
    first = decide("2024-03-02", drift_history)
    assert first.retrain is True

    second = decide("2024-03-03", drift_history, last_request_ds="2024-03-02")
    assert second.retrain is False
    assert second.drift_streak == 3
    assert "cooling down until 2024-03-08" in second.reason
    assert "next request can be made on 2024-03-09" in second.reason

    assert decide("2024-03-08", drift_history, last_request_ds="2024-03-02").retrain is False
    assert decide("2024-03-09", drift_history, last_request_ds="2024-03-02").retrain is True


def test_cooldown_counts_from_the_later_of_request_and_training() -> None:
    drift_history = history("2024-03-01", "DDDDDDDDDDDDDDD")
    requested, trained = "2024-03-02", "2024-03-06"
    blocked = decide("2024-03-12", drift_history, last_request_ds=requested, last_training_ds=trained)
    assert blocked.retrain is False
    assert "was on 2024-03-06" in blocked.reason
    assert "cooling down until 2024-03-12" in blocked.reason
    assert decide("2024-03-13", drift_history, last_request_ds=requested, last_training_ds=trained).retrain


def test_zero_cooldown_never_blocks() -> None:
    policy = RetrainingSpec(persistence_days=1, cooldown_days=0)
    decision = decide("2024-03-03", history("2024-03-03", "D"), last_request_ds="2024-03-02", policy=policy)
    assert decision.retrain is True


def test_no_retraining_without_drift_even_after_cooldown() -> None:
    decision = decide("2024-04-01", history("2024-03-30", "..."), last_training_ds="2024-01-01")
    assert decision.retrain is False
    assert decision.reason.startswith("drift on 0 consecutive day(s)")


def test_to_dict_is_plain() -> None:
    decision = decide("2024-03-05", history("2024-03-01", "...DD"))
    assert decision.to_dict() == {"retrain": True, "reason": decision.reason, "drift_streak": 2}


def test_bad_dates_are_refused() -> None:
    with pytest.raises(ValueError):
        decide("03/05/2024", {})
