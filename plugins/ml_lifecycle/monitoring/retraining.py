"""When drift or falling realized performance turns into a retraining request, and the guardrails.

Triggers (either is enough):
- drift: dataset drift on at least ``drift_days_required`` (N) of the last ``drift_window_days`` (M)
  calendar days, ``ds`` included. One drifted day is often noise (a holiday, a partial file); N of M
  tolerates a single clean day inside a drift episode, which N consecutive days would not. A day
  without a drift verdict counts as not drifted.
- performance: a rolling realized metric (performance.py, over at least ``monitoring.min_rows``
  labelled rows) below its ``performance_floor``. Labels come late, so this trigger is slower, but it
  measures what matters.

Guardrails (checked in this order once a trigger fires; the first that holds blocks the request):
1. pending request: a request newer than the last training has not been consumed yet, so asking again
   would queue a second training of the same pipeline (the training DAG also has max_active_runs=1).
   A request older than ``pending_request_expiry_days`` counts as lost (a failed training run) and
   stops blocking.
2. cool-down: ``cooldown_days`` after the last request, ``training_cooldown_days`` (default the same)
   after the last training, so one long drift episode does not retrain every day and a new model
   gets time to be observed.
3. weekly cap: at most ``max_per_week`` retrainings in any 7 days (``ds`` and the 6 days before it),
   counted as max(requests, trainings) in that window since each request leads to at most one training.

Every decision, trigger or not, carries its reason and the checks behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ml_lifecycle.spec import RetrainingSpec


@dataclass(frozen=True)
class RetrainingDecision:
    retrain: bool
    reason: str
    drift_days: int  # drifted days in the window of drift_window_days ending at ds
    trigger: str | None = None  # "drift", "performance", "drift+performance" or None
    blocked_by: str | None = None  # "pending_request", "cooldown", "weekly_cap" or None
    checks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrain": self.retrain,
            "reason": self.reason,
            "drift_days": self.drift_days,
            "trigger": self.trigger,
            "blocked_by": self.blocked_by,
            "checks": self.checks,
        }


def decide_retraining(
    *,
    ds: str,
    drift_history: Mapping[str, bool],
    policy: RetrainingSpec,
    request_history: Iterable[str] = (),
    training_history: Iterable[str] = (),
    realized: Mapping[str, Any] | None = None,
    min_rows: int = 1,
    last_request_ds: str | None = None,
    last_training_ds: str | None = None,
) -> RetrainingDecision:
    """Decide for day ``ds``.

    :param drift_history: ISO date -> dataset drift verdict, as observed so far.
    :param request_history: days on which retraining was requested (only those before ``ds`` count).
    :param training_history: days of training runs (``training/`` partitions) up to ``ds``.
    :param realized: rolling realized performance, e.g. ``{"rows": 900, "roc_auc": 0.71, ...}``.
    :param min_rows: labelled rows ``realized`` needs before the performance floor is judged.
    :param last_request_ds: / last_training_ds: shorthand added to the histories.
    """
    day = date.fromisoformat(ds)
    requests = sorted({_day(d) for d in [*request_history, *_present(last_request_ds)] if _day(d) < day})
    trainings = sorted({_day(d) for d in [*training_history, *_present(last_training_ds)] if _day(d) <= day})

    window = [day - timedelta(days=offset) for offset in range(policy.drift_window_days)]
    drifted = {date.fromisoformat(d) for d, verdict in drift_history.items() if verdict}
    drift_days = sum(1 for d in window if d in drifted)
    checks: dict[str, Any] = {
        "drift_window": f"{window[-1].isoformat()}..{ds}",
        "drift_days": drift_days,
        "drift_days_required": policy.drift_days_required,
        "drift_streak": drift_streak(day, drift_history),
        "last_request": requests[-1].isoformat() if requests else None,
        "last_training": trainings[-1].isoformat() if trainings else None,
    }
    drift_trigger = drift_days >= policy.drift_days_required
    drift_text = (f"drift on {drift_days} of the last {policy.drift_window_days} day(s) ending {ds} "
                  f"({policy.drift_days_required} needed)")
    below, performance_text = _below_floor(policy, realized, min_rows)
    checks["performance_below_floor"] = below
    performance_trigger = bool(below)

    if not drift_trigger and not performance_trigger:
        return RetrainingDecision(False, f"no trigger: {drift_text}; {performance_text}", drift_days, None, None, checks)
    trigger = "+".join(name for name, fired in (("drift", drift_trigger), ("performance", performance_trigger))
                       if fired)
    fired_text = "; ".join(text for text, fired in ((drift_text, drift_trigger), (performance_text, performance_trigger))
                           if fired)

    blocked_by, guard_text = _guardrail(day, policy, requests, trainings, checks)
    if blocked_by is not None:
        return RetrainingDecision(False, f"{fired_text}, but {guard_text}", drift_days, trigger, blocked_by, checks)
    return RetrainingDecision(True, f"{fired_text}: requesting retraining", drift_days, trigger, None, checks)


def _guardrail(
    day: date, policy: RetrainingSpec, requests: list[date], trainings: list[date], checks: dict[str, Any]
) -> tuple[str | None, str]:
    last_request = requests[-1] if requests else None
    last_training = trainings[-1] if trainings else None

    pending = last_request is not None and (last_training is None or last_request > last_training)
    expired = pending and last_request is not None and (day - last_request).days >= policy.pending_request_expiry_days
    checks["pending_request"] = bool(pending and not expired)
    if pending and not expired:
        return "pending_request", (
            f"the request of {last_request} has not been consumed by a training yet (last training: "
            f"{last_training or 'none'}); a second request would queue a second training of the pipeline"
        )

    ends = []
    if last_request is not None:
        ends.append((last_request + timedelta(days=policy.cooldown_days), f"the last request on {last_request}",
                     policy.cooldown_days))
    training_cooldown = policy.cooldown_days if policy.training_cooldown_days is None else policy.training_cooldown_days
    if last_training is not None:
        ends.append((last_training + timedelta(days=training_cooldown), f"the last training on {last_training}",
                     training_cooldown))
    blocking = [end for end in ends if day < end[0]]
    checks["cooldown_until"] = max(end[0] for end in ends).isoformat() if ends else None
    if blocking:
        end, event, days = max(blocking, key=lambda item: item[0])
        return "cooldown", (
            f"cooling down until {(end - timedelta(days=1)).isoformat()}: {event} with a {days}-day cool-down, "
            f"so the next request can be made on {end.isoformat()}"
        )

    week_start = day - timedelta(days=6)
    recent = max(sum(1 for d in requests if d >= week_start), sum(1 for d in trainings if d >= week_start))
    checks["retrainings_last_7_days"] = recent
    if recent >= policy.max_per_week:
        return "weekly_cap", (
            f"{recent} retraining(s) since {week_start.isoformat()} already reach max_per_week={policy.max_per_week}"
        )
    return None, ""


def _below_floor(policy: RetrainingSpec, realized: Mapping[str, Any] | None, min_rows: int) -> tuple[dict[str, Any], str]:
    """Metrics below their floor ({metric: {"value", "floor"}}) and a sentence saying why or why not."""
    if not policy.performance_floor:
        return {}, "no performance floor set"
    if not realized:
        return {}, "no realized performance yet"
    rows = int(realized.get("rows") or 0)
    if rows < min_rows:
        return {}, f"realized performance on {rows} labelled row(s), fewer than the {min_rows} needed to judge it"
    below: dict[str, Any] = {}
    parts = []
    for metric, floor in sorted(policy.performance_floor.items()):
        value = realized.get(metric)
        if value is None:
            parts.append(f"{metric} undefined")
            continue
        parts.append(f"{metric} {float(value):.4f} (floor {floor})")
        if float(value) < floor:
            below[metric] = {"value": float(value), "floor": floor}
    span = f" over {realized['from']}..{realized['to']}" if realized.get("from") else ""
    verdict = "below its floor" if below else "at or above the floors"
    return below, f"realized {', '.join(parts)} on {rows} rows{span}: {verdict}"


def drift_streak(day: date, drift_history: Mapping[str, bool]) -> int:
    """Consecutive calendar days with dataset drift ending at ``day``; a day not observed breaks it."""
    drifted_days = {date.fromisoformat(d) for d, drifted in drift_history.items() if drifted}
    streak = 0
    while day - timedelta(days=streak) in drifted_days:
        streak += 1
    return streak


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _present(value: str | None) -> list[str]:
    return [value] if value is not None else []
