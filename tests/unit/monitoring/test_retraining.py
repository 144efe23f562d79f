from __future__ import annotations

from datetime import date, timedelta

import pytest

from ml_lifecycle.monitoring import RetrainingDecision, decide_retraining, drift_streak
from ml_lifecycle.spec import RetrainingSpec, load_spec

POLICY = RetrainingSpec(drift_days_required=2, drift_window_days=3, cooldown_days=14, training_cooldown_days=3,
                        max_per_week=1)


def history(start: str, verdicts: str) -> dict[str, bool]:
    """``"DD.D"`` from ``start``: D drifted, ``.`` not drifted, ``_`` not observed."""
    first = date.fromisoformat(start)
    return {
        (first + timedelta(days=offset)).isoformat(): mark == "D"
        for offset, mark in enumerate(verdicts)
        if mark != "_"
    }


def day(number: int, start: str = "2026-10-01") -> str:
    return (date.fromisoformat(start) + timedelta(days=number - 1)).isoformat()


def decide(ds: str, drift_history: dict[str, bool], *, policy: RetrainingSpec = POLICY, **kwargs: object) -> RetrainingDecision:
    return decide_retraining(ds=ds, drift_history=drift_history, policy=policy, **kwargs)  # type: ignore[arg-type]


def simulate_month(verdicts: str, policy: RetrainingSpec, *, first_training_day: int = 10,
                   training_lag_days: int = 1) -> list[str]:
    """Replay the daily policy like the demo: a request is consumed by a training the next day."""
    requests: list[str] = []
    trainings = [day(first_training_day + training_lag_days)]
    drift_history: dict[str, bool] = {}
    for number, mark in enumerate(verdicts, start=1):
        ds = day(number)
        drift_history[ds] = mark == "D"
        decision = decide(ds, drift_history, policy=policy, request_history=requests,
                          training_history=[t for t in trainings if t <= ds])
        if decision.retrain:
            requests.append(ds)
            trainings.append(day(number + training_lag_days))
    return requests


# ---- N of M ------------------------------------------------------------------------------------
def test_n_of_m_days_trigger_and_a_clean_day_inside_the_window_does_not_reset() -> None:
    decision = decide("2026-10-05", history("2026-10-01", "...D."))
    assert decision.retrain is False  # 1 of the last 3
    decision = decide("2026-10-05", history("2026-10-01", "..D.D"))
    assert decision.retrain is True and decision.trigger == "drift"
    assert decision.drift_days == 2 and decision.checks["drift_streak"] == 1  # not consecutive, still 2 of 3
    assert "drift on 2 of the last 3 day(s) ending 2026-10-05 (2 needed)" in decision.reason
    assert decision.reason.endswith("requesting retraining")


def test_n_of_m_counts_only_the_window() -> None:
    assert decide("2026-10-06", history("2026-10-01", "DD....")).retrain is False
    assert decide("2026-10-06", history("2026-10-01", "DD...D")).drift_days == 1
    assert decide("2026-10-06", history("2026-10-01", "DD_D_D")).retrain is True  # missing days are not drift


def test_persistence_days_still_means_consecutive_days() -> None:
    policy = RetrainingSpec(persistence_days=3, cooldown_days=7)
    assert (policy.drift_days_required, policy.drift_window_days) == (3, 3)
    assert decide("2026-10-03", history("2026-10-01", "DD."), policy=policy).retrain is False
    assert decide("2026-10-03", history("2026-10-01", "DDD"), policy=policy).retrain is True
    with pytest.raises(ValueError, match="cannot exceed"):
        RetrainingSpec(drift_days_required=4, drift_window_days=3)


def test_the_streak_counts_every_consecutive_drifted_day() -> None:
    assert drift_streak(date(2024, 3, 6), history("2024-03-01", ".DDDDD")) == 5
    assert drift_streak(date(2024, 3, 6), {}) == 0


# ---- over a month --------------------------------------------------------------------------------
def test_a_persistent_shift_requests_exactly_one_retraining_over_a_month() -> None:
    verdicts = "." * 17 + "D" * 13  # drift from day 18 to day 30
    assert simulate_month(verdicts, POLICY) == [day(19)]


def test_the_churn_yaml_settings_give_one_request_on_day_19() -> None:
    policy = load_spec("churn").retraining
    assert simulate_month("." * 17 + "D" * 13, policy) == [day(19)]
    assert simulate_month("." * 20 + "D" + "." * 9, policy) == []


def test_a_one_day_blip_requests_nothing() -> None:
    assert simulate_month("." * 14 + "D" + "." * 15, POLICY) == []
    assert simulate_month("." * 14 + "D.." + "D" + "." * 12, POLICY) == []  # 1 of 3 twice


def test_a_short_cooldown_would_request_again() -> None:
    # The reason for the 14-day request cool-down: with 7 days the same episode requests twice.
    policy = RetrainingSpec(drift_days_required=2, drift_window_days=3, cooldown_days=7, max_per_week=1)
    assert simulate_month("." * 17 + "D" * 13, policy) == [day(19), day(27)]


# ---- guardrails ----------------------------------------------------------------------------------
def test_cooldown_after_a_request_blocks_and_names_the_next_day() -> None:
    drifted = history("2026-10-01", "D" * 20)
    blocked = decide(day(10), drifted, request_history=[day(2)], training_history=[day(3)])
    assert blocked.retrain is False and blocked.blocked_by == "cooldown"
    assert "cooling down until 2026-10-15" in blocked.reason
    assert "next request can be made on 2026-10-16" in blocked.reason
    assert blocked.trigger == "drift"
    assert decide(day(16), drifted, request_history=[day(2)], training_history=[day(3)]).retrain is True


def test_training_cooldown_is_separate_from_the_request_cooldown() -> None:
    drifted = history("2026-10-01", "D" * 20)
    assert decide(day(13), drifted, training_history=[day(11)]).blocked_by == "cooldown"
    # Out of the 3-day training cool-down, but the training counts towards the week's one retraining.
    assert decide(day(14), drifted, training_history=[day(11)]).blocked_by == "weekly_cap"
    assert decide(day(18), drifted, training_history=[day(11)]).retrain is True
    twice = POLICY.model_copy(update={"max_per_week": 2})
    assert decide(day(14), drifted, policy=twice, training_history=[day(11)]).retrain is True
    same = RetrainingSpec(drift_days_required=2, drift_window_days=3, cooldown_days=14, max_per_week=2)
    assert decide(day(14), drifted, policy=same, training_history=[day(11)]).blocked_by == "cooldown"


def test_the_weekly_cap_holds_even_without_a_cooldown() -> None:
    policy = RetrainingSpec(drift_days_required=1, drift_window_days=1, cooldown_days=0, max_per_week=2)
    drifted = history("2026-10-01", "D" * 20)
    requests, trainings = [day(1), day(4)], [day(1), day(4)]
    capped = decide(day(7), drifted, policy=policy, request_history=requests, training_history=trainings)
    assert capped.retrain is False and capped.blocked_by == "weekly_cap"
    assert "2 retraining(s) since 2026-10-01 already reach max_per_week=2" in capped.reason
    assert decide(day(8), drifted, policy=policy, request_history=requests, training_history=trainings).retrain
    requested = [date.fromisoformat(d) for d in simulate_month("D" * 30, policy, training_lag_days=0)]
    assert len(requested) >= 4
    for first in requested:  # never more than 2 in any 7 days, however long the drift
        assert sum(1 for d in requested if first <= d < first + timedelta(days=7)) <= 2


def test_an_unconsumed_request_blocks_a_second_one_until_it_expires() -> None:
    policy = RetrainingSpec(drift_days_required=1, drift_window_days=1, cooldown_days=0, max_per_week=7,
                            pending_request_expiry_days=5)
    drifted = history("2026-10-01", "D" * 20)
    pending = decide(day(3), drifted, policy=policy, request_history=[day(2)], training_history=[day(1)])
    assert pending.retrain is False and pending.blocked_by == "pending_request"
    assert "request of 2026-10-02 has not been consumed" in pending.reason
    consumed = decide(day(3), drifted, policy=policy, request_history=[day(2)], training_history=[day(1), day(3)])
    assert consumed.retrain is True
    assert decide(day(7), drifted, policy=policy, request_history=[day(2)]).retrain is True  # expired


def test_requests_on_or_after_the_day_are_ignored() -> None:
    # Re-running a past day sees only what had happened before it.
    drifted = history("2026-10-01", "DDDD")
    assert decide(day(3), drifted, request_history=[day(3), day(4)]).retrain is True


# ---- performance floor -------------------------------------------------------------------------------
def test_realized_performance_below_the_floor_triggers() -> None:
    policy = RetrainingSpec(performance_floor={"roc_auc": 0.7}, cooldown_days=14)
    realized = {"rows": 900, "roc_auc": 0.64, "pr_auc": 0.4, "from": day(1), "to": day(7)}
    decision = decide(day(9), history("2026-10-01", "." * 9), policy=policy, realized=realized, min_rows=500)
    assert decision.retrain is True and decision.trigger == "performance"
    assert "realized roc_auc 0.6400 (floor 0.7) on 900 rows over 2026-10-01..2026-10-07" in decision.reason
    assert decision.checks["performance_below_floor"] == {"roc_auc": {"value": 0.64, "floor": 0.7}}
    blocked = decide(day(9), {}, policy=policy, realized=realized, min_rows=500, request_history=[day(2)],
                     training_history=[day(3)])
    assert blocked.retrain is False and blocked.trigger == "performance" and blocked.blocked_by == "cooldown"


def test_performance_is_not_judged_on_too_few_rows_or_above_the_floor() -> None:
    policy = RetrainingSpec(performance_floor={"roc_auc": 0.7})
    few = decide(day(9), {}, policy=policy, realized={"rows": 100, "roc_auc": 0.5}, min_rows=500)
    assert few.retrain is False and "fewer than the 500 needed" in few.reason
    fine = decide(day(9), {}, policy=policy, realized={"rows": 900, "roc_auc": 0.8}, min_rows=500)
    assert fine.retrain is False and "at or above the floors" in fine.reason
    assert "no realized performance yet" in decide(day(9), {}, policy=policy).reason


def test_no_trigger_explains_both_triggers_and_to_dict_is_plain() -> None:
    decision = decide("2026-10-05", history("2026-10-01", "....."))
    assert decision.retrain is False and decision.trigger is None and decision.blocked_by is None
    assert decision.reason.startswith("no trigger: drift on 0 of the last 3 day(s)")
    assert "no performance floor set" in decision.reason
    as_dict = decision.to_dict()
    assert set(as_dict) == {"retrain", "reason", "drift_days", "trigger", "blocked_by", "checks"}
    assert as_dict["checks"]["drift_streak"] == decision.checks["drift_streak"]


def test_bad_dates_are_refused() -> None:
    with pytest.raises(ValueError):
        decide("03/05/2024", {})
