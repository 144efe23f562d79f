"""Evidently 0.7 behind the drift check: the report, its verdicts read back, and the HTML and JSON outputs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import DRIFT_HTML, DRIFT_JSON, write_json, write_text

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.monitoring.drift import DriftResult
    from ml_lifecycle.spec import PipelineSpec

_VALUE_DRIFT = "evidently:metric_v2:ValueDrift"

_DRIFTED_COLUMNS_COUNT = "evidently:metric_v2:DriftedColumnsCount"

_FAILED = "FAIL"  # an Evidently drift test fails when drift was detected

# Rows per side behind the HTML report when the verdicts are computed in numpy: Evidently takes ~2 s at
# 20k rows and ~4 s at 50k (a fixed ~1.5 s plus its pandas work), for a picture that looks the same.
REPORT_SAMPLE_ROWS = 20_000

_REPORT_SAMPLE_SEED = 0


def _evidently_snapshot(
    spec: PipelineSpec,
    reference_frame: pd.DataFrame,
    current_frame: pd.DataFrame,
    numerical: list[str],
    categorical: list[str],
    feature_columns: list[str],
    score: str | None,
) -> tuple[Any, dict[str, Any]]:
    snapshot = _run_evidently(
        reference_frame,
        current_frame,
        numerical=numerical,
        categorical=categorical,
        feature_columns=feature_columns,
        score_column=score,
        drift_share=spec.drift.drift_share,
        threshold=spec.drift.feature_threshold,
        per_column_threshold=spec.drift.per_column_threshold,
    )
    return snapshot, json.loads(snapshot.json())  # through JSON so numpy scalars and enums become plain values


def _prepare_frames(
    reference: pd.DataFrame, current: pd.DataFrame, numerical: list[str], categorical: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Only the tested columns, numerical ones as numbers, text ones as a shared ``category`` dtype.

    Categories make Evidently 2-4x faster and use half the memory with identical scores; sharing
    one dtype between both frames keeps a value seen only on one side a proper category.
    """
    import pandas as pd

    columns = [*numerical, *categorical]
    reference_frame = reference[columns].copy()
    current_frame = current[columns].copy()
    for column in numerical:
        reference_frame[column] = _as_numbers(reference_frame[column], column, "reference")
        current_frame[column] = _as_numbers(current_frame[column], column, "current")
    for column in categorical:
        if _is_text(reference_frame[column]) or _is_text(current_frame[column]):
            values = pd.concat([reference_frame[column], current_frame[column]], ignore_index=True)
            shared = pd.CategoricalDtype(values.dropna().unique())
            reference_frame[column] = reference_frame[column].astype(shared)
            current_frame[column] = current_frame[column].astype(shared)
    return reference_frame, current_frame


def _as_numbers(series: pd.Series, column: str, frame_name: str) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series):
        return series
    try:
        return pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"numeric drift column {column!r} in the {frame_name} frame is not numeric: {exc}"
        ) from exc


def _is_text(series: pd.Series) -> bool:
    import pandas as pd

    return (
        pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def _run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    numerical: list[str],
    categorical: list[str],
    feature_columns: list[str],
    score_column: str | None,
    drift_share: float,
    threshold: float | None,
    per_column_threshold: dict[str, float] | None = None,
) -> Any:
    with _quiet_evidently():
        from evidently import DataDefinition, Dataset, Report
        from evidently.metrics import ValueDrift
        from evidently.presets import DataDriftPreset

        # An explicit definition, so nothing (an id, a date) is ever guessed into a drift test.
        definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
        # Evidently's own per-column override (DataDriftPreset.per_column_threshold, which it resolves
        # before any all-column threshold); one dict holds both the spec-wide and the per-column values.
        thresholds = {} if threshold is None else dict.fromkeys(feature_columns, threshold)
        thresholds.update({c: v for c, v in (per_column_threshold or {}).items() if c in feature_columns})
        metrics: list[Any] = [
            DataDriftPreset(
                columns=feature_columns, drift_share=drift_share, per_column_threshold=thresholds or None
            )
        ]
        if score_column is not None:
            # Outside the preset, so prediction drift does not count towards the feature drift share.
            metrics.append(ValueDrift(column=score_column, threshold=threshold))
        # Without include_tests the snapshot has scores but no drifted / not drifted verdicts.
        report = Report(metrics, include_tests=True)
        return report.run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )


@contextmanager
def _quiet_evidently() -> Iterator[None]:
    # Importing Evidently raises deprecation warnings from its dependencies, and chi-square on a
    # category absent from the reference divides by zero (the p-value is 0, which is the right answer).
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


def _read_verdicts(raw: dict[str, Any]) -> tuple[dict[str, dict], bool, float]:
    """Per-column verdicts, the dataset verdict and the drifted share, as Evidently decided them."""
    failed_by_metric: dict[str, bool] = {
        test["metric_config"]["metric_id"]: test["status"] == _FAILED for test in raw["tests"]
    }
    verdicts: dict[str, dict] = {}
    dataset_drift: bool | None = None
    drift_share: float | None = None
    for metric in raw["metrics"]:
        config, metric_id = metric["config"], metric["id"]
        if metric_id not in failed_by_metric:
            raise RuntimeError(f"Evidently returned no test verdict for metric {metric['metric_name']}")
        if config["type"] == _VALUE_DRIFT:
            verdicts[config["column"]] = {
                "method": str(config["method"]),
                "score": float(metric["value"]),
                "threshold": float(config["threshold"]),
                "drifted": failed_by_metric[metric_id],
            }
        elif config["type"] == _DRIFTED_COLUMNS_COUNT:
            dataset_drift = failed_by_metric[metric_id]
            drift_share = float(metric["value"]["share"])
    if dataset_drift is None or drift_share is None:
        raise RuntimeError("Evidently's snapshot has no drifted-columns count")
    return verdicts, dataset_drift, drift_share


def _sample(frame: pd.DataFrame, columns: list[str], rows: int) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame[columns]
    return frame[columns].sample(n=rows, random_state=_REPORT_SAMPLE_SEED)


def _write_sampled_report(
    spec: PipelineSpec,
    result: DriftResult,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: list[str],
    categorical: list[str],
    feature_columns: list[str],
    score: str | None,
    out_dir: Path,
) -> DriftResult:
    """Evidently's report on a seeded random sample of each side, next to the verdicts of all rows."""
    columns = [*numerical, *categorical]
    reference_frame, current_frame = _prepare_frames(
        _sample(reference, columns, REPORT_SAMPLE_ROWS),
        _sample(current, columns, REPORT_SAMPLE_ROWS),
        numerical,
        categorical,
    )
    snapshot, raw = _evidently_snapshot(
        spec, reference_frame, current_frame, numerical, categorical, feature_columns, score
    )
    sample_rows = {"reference": len(reference_frame), "current": len(current_frame)}
    result = replace(result, report_sample_rows=sample_rows)
    banner = (
        f"Evidently report on a random sample of {sample_rows['reference']:,} reference and "
        f"{sample_rows['current']:,} current rows. The drift verdicts ({DRIFT_JSON}) are computed "
        f"on all {result.reference_rows:,} reference and {result.current_rows:,} current rows."
    )
    return _write_outputs(result, snapshot, raw, out_dir, banner=banner)


def _write_outputs(
    result: DriftResult, snapshot: Any, raw: dict[str, Any], out_dir: Path, *, banner: str | None = None
) -> DriftResult:
    html_path = out_dir / DRIFT_HTML
    json_path = out_dir / DRIFT_JSON
    result = replace(result, html_path=str(html_path), json_path=str(json_path))
    with _quiet_evidently():
        html = snapshot.get_html_str(as_iframe=False)
    if banner is not None:
        html = _with_banner(html, banner)
    write_text(html_path, html)
    # The folder is renamed once published: the file keeps names relative to it, not this folder's path.
    write_json(json_path, {**result.to_dict(), "html_path": DRIFT_HTML, "json_path": DRIFT_JSON,
                           "evidently": raw})
    return result


def _with_banner(html: str, text: str) -> str:
    import html as html_lib

    start = html.find("<body")
    end = html.find(">", start) + 1 if start >= 0 else 0
    note = f'<p style="font-family:sans-serif;padding:8px;background:#fff3cd">{html_lib.escape(text)}</p>'
    return html[:end] + note + html[end:]
