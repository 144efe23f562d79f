"""The automatic rollback check: is a new champion worse than its predecessor, judged on realized performance?

It only decides; moving the alias is :func:`ml_lifecycle.registry.rollback`'s job.
"""

from __future__ import annotations

from typing import Any

from ml_lifecycle.contracts import PerformanceReview, RollbackDecision
from ml_lifecycle.lake import PREDICTIONS_FILE, Lake, as_ds
from ml_lifecycle.metrics import binary_metrics
from ml_lifecycle.monitoring.performance import _rounded, labelled_predictions, realized_performance
from ml_lifecycle.registry import champion_version, previous_champion, rollback
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def rollback_check(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    *,
    champion_version: str | None = None,
    previous_version: str | None = None,
) -> RollbackDecision:
    """Should the current champion be rolled back to its predecessor, judged on realized performance?

    Versions default to what the lake shows: the champion is the version that scored the latest
    scored event date up to ``ds``, its predecessor the version that scored before it. (The operator
    passes the registry's champion and previous champion instead.) The champion is judged on all its
    labelled rows, the predecessor on its last ``monitoring.window_days`` labelled event dates, on
    ``monitoring.rollback_metric``; both need ``monitoring.min_rows`` labelled rows.
    Only a *newer* champion is rolled back: after a rollback the older version is champion again and
    is not judged against the one it replaced.

    Returns {rollback, reason, from_version, to_version, evidence}.
    """
    ds = as_ds(ds)
    monitoring = spec.monitoring
    metric = monitoring.rollback_metric
    joined = labelled_predictions(spec, lake, ds)
    if champion_version is None or previous_version is None:
        lake_champion, lake_previous = _versions_from_predictions(spec, lake, ds)
        champion_version = champion_version or lake_champion
        previous_version = previous_version or lake_previous
    evidence: dict[str, Any] = {
        "ds": ds, "metric": metric, "min_rows": monitoring.min_rows,
        "max_realized_drop": monitoring.max_realized_drop,
    }

    def decision(rollback: bool, reason: str) -> RollbackDecision:
        return {"rollback": rollback, "reason": reason, "from_version": champion_version,
                "to_version": previous_version, "evidence": evidence}

    if champion_version is None:
        return decision(False, f"no champion has scored any event date up to {ds}")
    if previous_version is None:
        return decision(False, f"champion v{champion_version} has no predecessor to roll back to")
    if _version_key(champion_version) <= _version_key(previous_version):
        return decision(False, f"champion v{champion_version} is not newer than v{previous_version}: it is not a "
                               "new champion (it may already be the result of a rollback)")

    threshold = spec.decision_threshold
    new = joined[joined["model_version"] == str(champion_version)]
    old = joined[joined["model_version"] == str(previous_version)]
    old_dates = sorted(old[spec.event_date_column].unique())[-monitoring.window_days:]
    old = old[old[spec.event_date_column].isin(old_dates)]
    for name, frame, version in (("champion", new, champion_version), ("previous", old, previous_version)):
        evidence[name] = {
            "version": str(version),
            **_rounded(binary_metrics(frame["label"].to_numpy(), frame["score"].to_numpy(), threshold)),
            "event_dates": sorted(str(d) for d in frame[spec.event_date_column].unique()),
        }
    for name in ("champion", "previous"):
        rows, version = evidence[name]["rows"], evidence[name]["version"]
        if rows < monitoring.min_rows:
            return decision(False, f"not enough evidence yet: v{version} ({name}) has {rows} labelled row(s) up to "
                                   f"{ds}; monitoring.min_rows is {monitoring.min_rows}")
        if evidence[name][metric] is None:
            return decision(False, f"{metric} of v{version} ({name}) is undefined on its {rows} labelled rows "
                                   "(a single class)")
    new_value, old_value = evidence["champion"][metric], evidence["previous"][metric]
    drop = round(old_value - new_value, 6)
    evidence["drop"] = drop
    comparison = (f"realized {metric} of v{champion_version} is {new_value:.4f} on {evidence['champion']['rows']} "
                  f"rows vs {old_value:.4f} for v{previous_version} on {evidence['previous']['rows']} rows "
                  f"(drop {drop:+.4f}, allowed {monitoring.max_realized_drop})")
    if drop > monitoring.max_realized_drop:
        return decision(True, f"roll back to v{previous_version}: {comparison}")
    return decision(False, f"keep v{champion_version}: {comparison}")


def _versions_from_predictions(spec: PipelineSpec, lake: Lake, ds: str) -> tuple[str | None, str | None]:
    """(version that scored the latest event date, the different version that scored before it)."""
    import pyarrow.parquet as pq

    current: str | None = None
    for day in reversed([d for d in lake.partitions("predictions", spec.name) if d <= ds]):
        path = lake.partition_dir("predictions", spec.name, day) / PREDICTIONS_FILE
        versions = pq.read_table(path, columns=["model_version"]).column(0).unique().to_pylist()
        for version in sorted((str(v) for v in versions), key=_version_key, reverse=True):
            if current is None:
                current = version
            elif version != current:
                return current, version
    return current, None


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if str(version).isdigit() else (-1, str(version))


def review_realized_performance(spec: PipelineSpec, lake: Lake, target: TrackingTarget | None, ds: str, *,
                                roll_back: bool, actor: str, lineage: dict[str, str] | None = None) -> PerformanceReview:
    """The day's realized-performance report, the rollback decision and (with ``roll_back``) the rollback.

    ``target`` None decides from the model versions on the predictions alone (no MLflow); otherwise the
    registry says which version is champion and which came before it, and a decided rollback goes
    through :func:`ml_lifecycle.registry.rollback` (which refuses rejected or broken versions and records
    the move). Returns the report's summary plus ``rollback_decision`` and ``rolled_back`` (or None).
    """
    summary = realized_performance(spec, lake, ds)
    champion = previous = None
    if target is not None:
        current = champion_version(spec, target)
        champion = current["version"] if current else None
        previous = previous_champion(spec, target) if champion else None
    decision = rollback_check(spec, lake, ds, champion_version=champion, previous_version=previous)
    rolled_back = None
    if decision["rollback"] and roll_back and target is not None:
        rolled_back = rollback(spec, target, version=decision["to_version"],
                               reason=f"realized performance: {decision['reason']}", actor=actor, lineage=lineage)
    return {**summary, "rollback_decision": decision, "rolled_back": rolled_back}
