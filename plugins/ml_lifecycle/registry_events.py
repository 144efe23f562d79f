"""The alias history: every move of ``champion`` / ``challenger``, as one MLflow run per move.

Why runs: a registered-model tag is one length-limited value that every writer would rewrite (lost
updates, truncation); an append-only JSON artifact has the same read-modify-write race. A run per event
in the experiment ``<pipeline>-registry-events`` is append-only by construction, unbounded, searchable
(``search_runs``) and visible in the MLflow UI next to the model runs. Each event carries ISO-8601 UTC
timestamps and the versions moved from and to, so "which version was champion at date D" (backfills)
is a lookup: :func:`champion_at`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

EVENT_TAG = "registry_event"
FIELDS = ("alias", "from_version", "to_version", "action", "actor", "reason", "at", "model_name")


def events_experiment(spec: PipelineSpec) -> str:
    return f"{spec.name}-registry-events"


def record_alias_move(
    spec: PipelineSpec,
    target: TrackingTarget,
    *,
    alias: str,
    from_version: str | None,
    to_version: str | None,
    action: str,
    actor: str,
    reason: str,
    at: str | None = None,
    lineage: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Append one event (a finished MLflow run whose tags are the event) and return it."""
    client = target.activate()
    event = {
        "alias": alias,
        "from_version": from_version or "none",
        "to_version": to_version or "none",
        "action": action,
        "actor": actor,
        "reason": reason[:4900],
        "at": at or datetime.now(UTC).isoformat(timespec="microseconds"),
        "model_name": spec.model.registered_name,
    }
    tags = {EVENT_TAG: "alias_move", **{f"event.{k}": v for k, v in event.items()},
            **{f"event.lineage.{k}": v for k, v in (lineage or {}).items()}}
    run = client.create_run(
        target.experiment_id(events_experiment(spec)),
        run_name=f"{alias}: v{event['from_version']} -> v{event['to_version']} ({action})",
        tags=tags,
    )
    client.set_terminated(run.info.run_id)
    return {**event, "event_run_id": run.info.run_id}


def alias_history(spec: PipelineSpec, target: TrackingTarget, alias: str | None = "champion") -> list[dict[str, Any]]:
    """Every recorded move of ``alias`` (all aliases with ``None``), oldest first.

    Each entry: alias, from_version, to_version ("none" when the alias was absent or removed), action
    (promote, forced_promote, rollback, candidate, retired), actor, reason, at (ISO 8601, UTC),
    model_name, lineage (Airflow ids when a task moved it) and event_run_id.
    """
    client = target.activate()
    experiment = client.get_experiment_by_name(events_experiment(spec))
    if experiment is None:
        return []
    query = f"tags.{EVENT_TAG} = 'alias_move'"
    if alias is not None:
        query += f" and tags.`event.alias` = '{alias}'"
    events, token = [], None
    while True:
        page = client.search_runs([experiment.experiment_id], filter_string=query, max_results=1000,
                                  order_by=["attributes.start_time ASC"], page_token=token)
        for run in page:
            tags = run.data.tags
            entry: dict[str, Any] = {k: tags.get(f"event.{k}") for k in FIELDS}
            entry["lineage"] = {k[len("event.lineage."):]: v for k, v in tags.items() if k.startswith("event.lineage.")}
            entry["event_run_id"] = run.info.run_id
            events.append(entry)
        token = page.token
        if not token:
            break
    return sorted(events, key=lambda e: e["at"] or "")


def champion_at(spec: PipelineSpec, target: TrackingTarget, when: datetime | str) -> str | None:
    """The version that was ``champion`` at ``when`` (aware datetime or ISO string), or None."""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = None
    for event in alias_history(spec, target, "champion"):
        if datetime.fromisoformat(event["at"]) > moment:
            break
        current = None if event["to_version"] == "none" else event["to_version"]
    return current
