"""When drift should turn into a retraining request: persistence over days, then a cool-down.

One drifted day is often noise (a holiday, a partial file), so a request needs drift on
``persistence_days`` consecutive calendar days. After a request or a training run the model gets
``cooldown_days`` to settle, so one long drift episode does not retrain it every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml_lifecycle.spec import RetrainingSpec


@dataclass(frozen=True)
class RetrainingDecision:
    retrain: bool
    reason: str
    drift_streak: int

    def to_dict(self) -> dict:
        return {"retrain": self.retrain, "reason": self.reason, "drift_streak": self.drift_streak}


def decide_retraining(
    *,
    ds: str,
    drift_history: dict[str, bool],
    last_request_ds: str | None,
    last_training_ds: str | None,
    policy: RetrainingSpec,
) -> RetrainingDecision:
    """Decide for day ``ds`` from the drift verdicts observed so far (ISO date -> dataset drift)."""
    day = date.fromisoformat(ds)
    streak = drift_streak(day, drift_history)
    needed = policy.persistence_days

    if streak < needed:
        return RetrainingDecision(
            retrain=False,
            reason=f"drift on {streak} consecutive day(s) ending {ds}; {needed} needed to retrain",
            drift_streak=streak,
        )

    cooldown_end = _cooldown_end(last_request_ds, last_training_ds, policy.cooldown_days)
    if cooldown_end is not None and day < cooldown_end:
        last_event = _latest(last_request_ds, last_training_ds)
        return RetrainingDecision(
            retrain=False,
            reason=(
                f"drift on {streak} consecutive day(s) ending {ds}, but cooling down until "
                f"{(cooldown_end - timedelta(days=1)).isoformat()}: the last retraining request or "
                f"training was on {last_event} and the cool-down is {policy.cooldown_days} day(s), "
                f"so the next request can be made on {cooldown_end.isoformat()}"
            ),
            drift_streak=streak,
        )

    return RetrainingDecision(
        retrain=True,
        reason=f"drift on {streak} consecutive day(s) ending {ds} (>= {needed} needed); requesting retraining",
        drift_streak=streak,
    )


def drift_streak(day: date, drift_history: dict[str, bool]) -> int:
    """Consecutive calendar days with dataset drift ending at ``day``; a day not observed breaks it."""
    drifted_days = {date.fromisoformat(d) for d, drifted in drift_history.items() if drifted}
    streak = 0
    while day - timedelta(days=streak) in drifted_days:
        streak += 1
    return streak


def _cooldown_end(
    last_request_ds: str | None, last_training_ds: str | None, cooldown_days: int
) -> date | None:
    """First day on which a new request is allowed again, or None when nothing has happened yet."""
    latest = _latest(last_request_ds, last_training_ds)
    if latest is None:
        return None
    return date.fromisoformat(latest) + timedelta(days=cooldown_days)


def _latest(*days: str | None) -> str | None:
    known = [date.fromisoformat(d) for d in days if d is not None]
    return max(known).isoformat() if known else None
