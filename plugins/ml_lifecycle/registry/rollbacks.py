"""Rollback and roll-forward: ``champion`` moves to another version in one recorded step.
"""

from __future__ import annotations

from typing import Any

from ml_lifecycle.contracts import RollbackResult
from ml_lifecycle.exceptions import RegistryError
from ml_lifecycle.registry.aliases import _current, alias_history
from ml_lifecycle.registry.promotion import _move_champion, smoke_test
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import HOLDOUT_ARTIFACT

MIN_REASON_CHARS = 10


def previous_champion(spec: PipelineSpec, target: TrackingTarget) -> str | None:
    """The champion before the current one: the alias history first, the version tags as fallback."""
    client = target.activate()
    name = spec.model.registered_name
    current = _current(client, name, "champion")
    if current is None:
        return None
    for event in reversed(alias_history(spec, target, "champion")):
        if event["to_version"] == current and event["from_version"] not in ("none", None):
            return str(event["from_version"])
    previous = client.get_model_version(name, current).tags.get("champion.previous")
    return previous if previous and previous != "none" else None


def rollback(spec: PipelineSpec, target: TrackingTarget, *, reason: str, actor: str, version: str | None = None,
             lineage: dict[str, str] | None = None) -> RollbackResult:
    """Move ``champion`` to ``version`` (default: the previous champion) in one recorded step.

    Refused with a RegistryError when the reason is shorter than 10 characters, the version does not
    exist, is already champion, was rejected by the gate, or fails a load-and-predict smoke test on
    rows of its own holdout. Also used to re-promote a newer version after a rollback.
    """
    from mlflow.exceptions import MlflowException

    if len((reason or "").strip()) < MIN_REASON_CHARS:
        raise RegistryError(f"a rollback needs a reason of at least {MIN_REASON_CHARS} characters, got {reason!r}")
    client = target.activate()
    name = spec.model.registered_name
    current = _current(client, name, "champion")
    version = str(version) if version else previous_champion(spec, target)
    if version is None:
        raise RegistryError(f"{name}: no previous champion to roll back to (champion v{current or 'none'})")
    try:
        mv = client.get_model_version(name, version)
    except MlflowException as exc:
        raise RegistryError(f"{name}: version {version} does not exist") from exc
    if version == current:
        raise RegistryError(f"{name}: v{version} is already the champion")
    if mv.tags.get("gate.decision") == "REJECT":
        raise RegistryError(f"{name}: v{version} was rejected by the gate ({mv.tags.get('gate.failed_checks')}); "
                            "it cannot become champion by rollback")
    passed, detail = smoke_test(spec, target, version, _holdout_sample(spec, client, mv.run_id))
    if not passed:
        raise RegistryError(f"{name}: v{version} failed the load-and-predict smoke test: {detail}")
    newer = current is not None and int(version) > int(current)
    action = "repromote" if newer else "rollback"
    moved = _move_champion(spec, target, version, expected_current=current, action=action, actor=actor,
                           reason=reason.strip(), lineage=lineage or {})
    client.set_model_version_tag(name, version, "champion.reason", reason.strip()[:4900])
    return {"action": action, "champion_version": version, "previous_champion": current, "reason": reason.strip(),
            "actor": actor, "at": moved["event"]["at"]}


def _holdout_sample(spec: PipelineSpec, client: Any, run_id: str | None, rows: int = 50) -> Any:
    import tempfile

    import mlflow
    import pandas as pd

    from ml_lifecycle.training import model_input

    if not run_id:
        raise RegistryError("the version has no run: cannot find rows to smoke-test it with")
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=HOLDOUT_ARTIFACT, dst_path=tmp)
        frame = pd.read_parquet(path).head(rows)
    return model_input(spec, frame)
