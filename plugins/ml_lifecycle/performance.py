"""Realized performance: the champion's scores judged against the labels that arrive days later.

Labels land in ``labels/<p>/ds=<arrival>/labels.parquet`` (id, event_date, target, label_arrived_ds);
the scores of an event date are in ``predictions/<p>/ds=<event_date>/predictions.parquet`` with the model
version on every row. Joining the two on (id, event date) gives, per event date and per model version,
rows, positive rate, ROC AUC (when both classes are present), PR AUC, F1 at the spec's decision
threshold and Brier score, plus a rolling window over the last ``monitoring.window_days`` labelled
event dates.

Only labels that had *arrived* by ``ds`` are used, so re-running a past date gives the same answer.
The metrics are computed in numpy (the same definitions as scikit-learn's ``roc_auc_score``,
``average_precision_score``, ``f1_score`` and ``brier_score_loss``): a daily task should not pay
sklearn's import for four formulas.

``rollback_check`` turns this into a decision: a *new* champion whose realized metric, over at least
``monitoring.min_rows`` labelled rows, is below its predecessor's by more than
``monitoring.max_realized_drop`` should be rolled back. It only decides; moving the alias is
registry.rollback's job (see operators/performance.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import Lake, as_ds, fingerprint_of, write_json

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec

PERFORMANCE_JSON = "performance.json"
REPORT_KIND = "performance"
METRICS = ("roc_auc", "pr_auc", "f1", "brier")


# ---- metrics -------------------------------------------------------------------------------------
def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """rows, positives, positive_rate, roc_auc, pr_auc, f1, brier; a metric undefined on the rows is None."""
    import numpy as np

    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=float)
    rows, positives = len(y), int(y.sum())
    if rows == 0:
        return {"rows": 0, "positives": 0, "positive_rate": None, **dict.fromkeys(METRICS)}
    predicted = s >= threshold
    true_pos = int(np.sum(predicted & (y == 1)))
    f1_denominator = int(predicted.sum()) + positives
    return {
        "rows": rows,
        "positives": positives,
        "positive_rate": positives / rows,
        "roc_auc": _roc_auc(y, s) if 0 < positives < rows else None,
        "pr_auc": _average_precision(y, s) if positives > 0 else None,
        "f1": 2.0 * true_pos / f1_denominator if f1_denominator else 0.0,
        "brier": float(np.mean((s - y) ** 2)),
    }


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney U with average ranks for ties (= sklearn's roc_auc_score)."""
    import numpy as np

    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(len(s), dtype=float)
    # Average rank of each run of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def _average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """sum over thresholds of (R_n - R_n-1) * P_n (= sklearn's average_precision_score)."""
    import numpy as np

    order = np.argsort(-s, kind="mergesort")
    sorted_scores, sorted_y = s[order], y[order]
    last_of_threshold = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(s) - 1]
    true_pos = np.cumsum(sorted_y)[last_of_threshold]
    predicted = last_of_threshold + 1
    precision = true_pos / predicted
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


# ---- the join ------------------------------------------------------------------------------------
def labelled_predictions(spec: PipelineSpec, lake: Lake, ds: str) -> pd.DataFrame:
    """Every prediction whose label had arrived by ``ds``: id, event date, score, model_version, label.

    A label arriving twice for the same (id, event date) counts once, the latest arrival winning.
    Labels whose event date was never scored are left out (there is nothing to judge).
    """
    import pandas as pd

    ds = as_ds(ds)
    key = [spec.id_column, spec.event_date_column]
    columns = [*key, "score", "model_version", "label"]
    arrivals = [day for day in lake.partitions("labels", spec.name) if day <= ds]
    if not arrivals:
        return pd.DataFrame(columns=columns)
    labels = pd.concat(
        [
            pd.read_parquet(lake.partition_dir("labels", spec.name, day) / "labels.parquet").assign(label_arrived_ds=day)
            for day in arrivals
        ],
        ignore_index=True,
    )
    labels[spec.event_date_column] = labels[spec.event_date_column].astype(str).str[:10]
    labels[spec.id_column] = labels[spec.id_column].astype(str)
    labels = labels.sort_values("label_arrived_ds").drop_duplicates(key, keep="last")
    labels["label"] = (labels[spec.target.column].astype(str) == str(spec.target.positive_class)).astype("int64")

    scored: list[pd.DataFrame] = []
    for event_ds in sorted(labels[spec.event_date_column].unique()):
        directory = lake.partition_dir("predictions", spec.name, event_ds)
        if event_ds > ds or not lake.is_complete(directory):
            continue
        predictions = pd.read_parquet(directory / "predictions.parquet", columns=[*key, "score", "model_version"])
        predictions[spec.event_date_column] = predictions[spec.event_date_column].astype(str).str[:10]
        predictions[spec.id_column] = predictions[spec.id_column].astype(str)
        scored.append(predictions.merge(labels[[*key, "label"]], on=key, how="inner"))
    if not scored:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(scored, ignore_index=True)[columns]
    joined["model_version"] = joined["model_version"].astype(str)
    return joined


# ---- the report ----------------------------------------------------------------------------------
def realized_performance(spec: PipelineSpec, lake: Lake, ds: str) -> dict[str, Any]:
    """Write ``reports/<p>/performance/ds=<ds>/performance.json`` and return a small summary.

    The report holds ``by_event_date`` (event date -> model version -> metrics), ``by_version``
    (model version -> metrics over all its labelled rows), and ``window`` (the last
    ``monitoring.window_days`` labelled event dates: overall metrics and per version).
    The summary (an XCom) has ds, labelled_rows, event_dates, window (from, to, rows and metrics),
    versions (version -> rows and the rollback metric) and report_path.
    """
    ds = as_ds(ds)
    joined = labelled_predictions(spec, lake, ds)
    report = performance_report(spec, joined, ds)
    inputs = fingerprint_of({"report": report, "spec_hash": spec.spec_hash})  # same figures: nothing to rewrite
    report["computed_at"] = datetime.now(UTC).isoformat()

    def write(staging: Path) -> dict[str, Any]:
        write_json(staging / PERFORMANCE_JSON, report)
        return {"labelled_rows": report["labelled_rows"], "window_rows": report["window"]["rows"]}

    folder = lake.publish_report(spec.name, REPORT_KIND, ds, write, inputs=inputs)
    metric = spec.monitoring.rollback_metric
    return {
        "ds": ds,
        "labelled_rows": report["labelled_rows"],
        "event_dates": len(report["by_event_date"]),
        "window": {k: report["window"][k] for k in ("from", "to", "rows", "positive_rate", *METRICS)},
        "versions": {v: {"rows": m["rows"], metric: m[metric]} for v, m in report["by_version"].items()},
        "report_path": str(folder / PERFORMANCE_JSON),
    }


def performance_report(spec: PipelineSpec, joined: pd.DataFrame, ds: str) -> dict[str, Any]:
    """The report's content from the labelled predictions (see :func:`labelled_predictions`)."""
    threshold = spec.decision_threshold
    date_column = spec.event_date_column

    def metrics(frame: pd.DataFrame) -> dict[str, Any]:
        return _rounded(binary_metrics(frame["label"].to_numpy(), frame["score"].to_numpy(), threshold))

    by_event_date: dict[str, dict[str, Any]] = {}
    for event_ds, day in joined.groupby(date_column, sort=True):
        by_event_date[str(event_ds)] = {
            "all": metrics(day),
            "by_version": {str(v): metrics(part) for v, part in day.groupby("model_version", sort=True)},
        }
    window_dates = sorted(by_event_date)[-spec.monitoring.window_days:]
    window = joined[joined[date_column].isin(window_dates)]
    return {
        "ds": ds,
        "pipeline": spec.name,
        "decision_threshold": threshold,
        "labelled_rows": len(joined),
        "by_event_date": by_event_date,
        "by_version": {
            str(v): {**metrics(part), "event_dates": sorted(part[date_column].astype(str).unique().tolist())}
            for v, part in joined.groupby("model_version", sort=True)
        },
        "window": {
            "days": spec.monitoring.window_days,
            "from": window_dates[0] if window_dates else None,
            "to": window_dates[-1] if window_dates else None,
            **metrics(window),
            "by_version": {str(v): metrics(part) for v, part in window.groupby("model_version", sort=True)},
        },
    }


def latest_performance(spec: PipelineSpec, lake: Lake, *, up_to: str) -> dict[str, Any] | None:
    """The newest performance report on or before ``up_to``, or None."""
    days = [day for day in lake.reports(spec.name, REPORT_KIND) if day <= up_to]
    if not days:
        return None
    report: dict[str, Any] = json.loads((lake.report_dir(spec.name, REPORT_KIND, days[-1]) / PERFORMANCE_JSON).read_text())
    return report


# ---- rollback ------------------------------------------------------------------------------------
def rollback_check(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    *,
    champion_version: str | None = None,
    previous_version: str | None = None,
) -> dict[str, Any]:
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

    def decision(rollback: bool, reason: str) -> dict[str, Any]:
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
        path = lake.partition_dir("predictions", spec.name, day) / "predictions.parquet"
        versions = pq.read_table(path, columns=["model_version"]).column(0).unique().to_pylist()
        for version in sorted((str(v) for v in versions), key=_version_key, reverse=True):
            if current is None:
                current = version
            elif version != current:
                return current, version
    return current, None


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if str(version).isdigit() else (-1, str(version))


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(float(v), 6) if isinstance(v, float) else v for k, v in metrics.items()}
