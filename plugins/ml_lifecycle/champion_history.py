"""Which model version was ``champion`` at a given moment: what a backfill of a past date must score with.

Two sources, best first:

1. the registry's alias history (``alias_history(spec, target)`` in ``registry_events`` or ``registry``,
   one event per move of the alias with ISO timestamps and from/to versions), when it has events;
2. otherwise the version tags that ``registry.apply_verdict`` writes on every promotion:
   ``champion.since`` on the new champion and ``champion.until`` on the one it replaced.

Both answer None for a moment before the first recorded promotion; the caller decides what that means.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def as_utc(moment: datetime | str) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def champion_at(spec: PipelineSpec, target: TrackingTarget, moment: datetime | str) -> str | None:
    """The version that held ``champion`` at ``moment`` (aware datetime or ISO string), or None."""
    when = as_utc(moment)
    events = _alias_events(spec, target)
    if events:
        return _from_events(events, when)
    return _from_version_tags(spec, target, when)


def _alias_events(spec: PipelineSpec, target: TrackingTarget) -> list[dict[str, Any]]:
    for module_name in ("ml_lifecycle.registry_events", "ml_lifecycle.registry"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        history = getattr(module, "alias_history", None)
        if history is not None:
            events = history(spec, target)
            return [e for e in events if e.get("alias", "champion") == "champion" and e.get("at")]
    return []


def _from_events(events: list[dict[str, Any]], when: datetime) -> str | None:
    current = None
    for event in sorted(events, key=lambda e: as_utc(e["at"])):
        if as_utc(event["at"]) > when:
            break
        to_version = event.get("to_version")
        current = None if to_version in (None, "none") else str(to_version)
    return current


def _from_version_tags(spec: PipelineSpec, target: TrackingTarget, when: datetime) -> str | None:
    client = target.activate()
    best: tuple[datetime, str] | None = None
    for mv in client.search_model_versions(f"name='{spec.model.registered_name}'"):
        since = mv.tags.get("champion.since")
        if not since or as_utc(since) > when:
            continue
        until = mv.tags.get("champion.until")
        if until and as_utc(until) <= when and as_utc(until) >= as_utc(since):
            continue  # replaced before the moment (an `until` older than `since` is from an earlier term)
        if best is None or as_utc(since) > best[0]:
            best = (as_utc(since), str(mv.version))
    return best[1] if best else None
