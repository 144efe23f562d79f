"""The aliases and their audited history: every move of ``champion`` / ``challenger``, as one MLflow run per move.

Why runs: a registered-model tag is one length-limited value that every writer would rewrite (lost
updates, truncation); an append-only JSON artifact has the same read-modify-write race. A run per event
in the experiment ``<pipeline>-registry-events`` is append-only by construction, unbounded, searchable
(``search_runs``) and visible in the MLflow UI next to the model runs. Each event carries ISO-8601 UTC
timestamps and the versions moved from and to, so "which version was champion at date D" (backfills)
is a lookup: :func:`champion_at`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from ml_lifecycle.contracts import AliasEvent, ModelRef
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


def alias_history(spec: PipelineSpec, target: TrackingTarget, alias: str | None = "champion") -> list[AliasEvent]:
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
    events: list[AliasEvent] = []
    token = None
    while True:
        page = client.search_runs([experiment.experiment_id], filter_string=query, max_results=1000,
                                  order_by=["attributes.start_time ASC"], page_token=token)
        for run in page:
            tags = run.data.tags
            entry: dict[str, Any] = {k: tags.get(f"event.{k}") for k in FIELDS}
            entry["lineage"] = {k[len("event.lineage."):]: v for k, v in tags.items() if k.startswith("event.lineage.")}
            entry["event_run_id"] = run.info.run_id
            events.append(cast(AliasEvent, entry))
        token = page.token
        if not token:
            break
    return sorted(events, key=lambda e: e["at"] or "")


def champion_at(spec: PipelineSpec, target: TrackingTarget, when: datetime | str) -> str | None:
    """The version that was ``champion`` at ``when`` (aware datetime or ISO string), or None."""
    moment = as_utc(when)
    current = None
    for event in sorted(alias_history(spec, target, "champion"), key=lambda e: as_utc(e["at"])):
        if as_utc(event["at"]) > moment:
            break
        current = None if event["to_version"] in (None, "none") else str(event["to_version"])
    return current


def as_utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime from an ISO string or a datetime (a naive one is taken as UTC)."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

_UNREACHABLE_SIGNS = ("Connection refused", "Failed to establish a new connection", "Max retries exceeded",
                      "Connection reset", "Name or service not known", "timed out")


def unreachable(exc: BaseException) -> bool:
    """Whether an MLflow client error means the server was not reached (as opposed to a refusal or a bad model).

    The REST client wraps the transport error in an ``MlflowException`` whose message keeps the cause's
    text, so both the exception chain and the message are looked at.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError | TimeoutError):
            return True
        if type(seen).__name__ in {"ConnectionError", "NewConnectionError", "MaxRetryError", "ConnectTimeout"}:
            return True
        if any(sign in str(seen) for sign in _UNREACHABLE_SIGNS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _current(client: Any, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(spec: PipelineSpec, target: TrackingTarget, alias: str, version: str, *, action: str, actor: str,
              reason: str, lineage: dict[str, str] | None = None) -> dict[str, Any]:
    """Point ``alias`` at ``version`` and record the move in the alias history."""
    client = target.activate()
    name = spec.model.registered_name
    previous = _current(client, name, alias)
    client.set_registered_model_alias(name, alias, str(version))
    return record_alias_move(spec, target, alias=alias, from_version=previous, to_version=str(version),
                             action=action, actor=actor, reason=reason, lineage=lineage)


def _drop_alias(spec: PipelineSpec, target: TrackingTarget, alias: str, version: str, *, actor: str, reason: str) -> None:
    client = target.activate()
    name = spec.model.registered_name
    if _current(client, name, alias) == str(version):
        client.delete_registered_model_alias(name, alias)
        record_alias_move(spec, target, alias=alias, from_version=str(version), to_version=None,
                          action="retired", actor=actor, reason=reason)


def aliased_version(spec: PipelineSpec, target: TrackingTarget, alias: str) -> ModelRef | None:
    """The version (and its run) behind an alias of the pipeline's model, or None when the alias is unset."""
    from mlflow.exceptions import MlflowException

    client = target.activate()
    try:
        mv = client.get_model_version_by_alias(spec.model.registered_name, alias)
    except MlflowException:
        return None
    return {"version": str(mv.version), "run_id": str(mv.run_id)}


def champion_version(spec: PipelineSpec, target: TrackingTarget) -> ModelRef | None:
    """The version behind the ``champion`` alias, or None before the first promotion."""
    return aliased_version(spec, target, "champion")
