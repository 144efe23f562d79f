"""Realized performance: the champion's scores judged against the labels that arrive days later.

Labels land in ``labels/<p>/ds=<arrival>/labels.parquet`` (id, event_date, target, label_arrived_ds);
the scores of an event date are in ``predictions/<p>/ds=<event_date>/predictions.parquet`` with the model
version on every row. Joining the two on (id, event date) gives, per event date and per model version,
rows, positive rate, ROC AUC (when both classes are present), PR AUC, F1 at the spec's decision
threshold and Brier score (:func:`ml_lifecycle.metrics.binary_metrics`), plus a rolling window over the
last ``monitoring.window_days`` labelled event dates.

Only labels that had *arrived* by ``ds`` are used, so re-running a past date gives the same answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import PerformanceSummary
from ml_lifecycle.lake import (
    LABELS_FILE,
    PERFORMANCE_JSON,
    PREDICTIONS_FILE,
    Lake,
    as_ds,
    fingerprint_of,
    latest_report,
    write_json,
)
from ml_lifecycle.metrics import METRICS, binary_metrics

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec


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
            pd.read_parquet(lake.partition_dir("labels", spec.name, day) / LABELS_FILE).assign(label_arrived_ds=day)
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
        predictions = pd.read_parquet(directory / PREDICTIONS_FILE, columns=[*key, "score", "model_version"])
        predictions[spec.event_date_column] = predictions[spec.event_date_column].astype(str).str[:10]
        predictions[spec.id_column] = predictions[spec.id_column].astype(str)
        scored.append(predictions.merge(labels[[*key, "label"]], on=key, how="inner"))
    if not scored:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(scored, ignore_index=True)[columns]
    joined["model_version"] = joined["model_version"].astype(str)
    return joined


def realized_performance(spec: PipelineSpec, lake: Lake, ds: str) -> PerformanceSummary:
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

    folder = lake.publish_report(spec.name, "performance", ds, write, inputs=inputs)
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
    found = latest_report(lake, spec.name, "performance", up_to=up_to)
    return found[1] if found else None


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: round(float(v), 6) if isinstance(v, float) else v for k, v in metrics.items()}
