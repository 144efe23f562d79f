"""Data drift and prediction drift of a day's batch against a reference sample (see the package docs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ml_lifecycle.monitoring.drift_evidently import (
    _evidently_snapshot,
    _prepare_frames,
    _read_verdicts,
    _write_outputs,
    _write_sampled_report,
)
from ml_lifecycle.monitoring.drift_statistics import (
    _DISTANCE_DEFAULT_THRESHOLD,
    _EVIDENTLY_SMALL_REFERENCE_ROWS,
    _numpy_verdicts,
    population_stability_index,
)

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftResult:
    """Evidently's verdicts. A column verdict is {"method", "score", "threshold", "drifted"}."""

    dataset_drift: bool  # share of drifted feature columns >= spec.drift.drift_share
    drift_share: float  # drifted feature columns / tested feature columns
    drifted_columns: list[str]
    columns: dict[str, dict]  # feature column -> verdict
    score_drift: dict | None  # verdict for the model's score column, when one was checked
    reference_rows: int
    current_rows: int
    html_path: str | None = None
    json_path: str | None = None
    psi: dict[str, float] = field(default_factory=dict)  # column (and score column) -> PSI
    psi_flagged: list[str] = field(default_factory=list)  # columns with PSI >= spec.drift.psi_threshold
    method_source: str = "evidently"  # "evidently": Evidently's verdicts; "numpy": ours, Evidently's formulas
    report_sample_rows: dict[str, int] | None = None  # rows per side behind the HTML report, when sampled

    def to_dict(self) -> dict:
        return {
            "psi": {name: float(value) for name, value in self.psi.items()},
            "psi_flagged": list(self.psi_flagged),
            "dataset_drift": bool(self.dataset_drift),
            "drift_share": float(self.drift_share),
            "drifted_columns": list(self.drifted_columns),
            "columns": {name: _plain_verdict(verdict) for name, verdict in self.columns.items()},
            "score_drift": None if self.score_drift is None else _plain_verdict(self.score_drift),
            "reference_rows": int(self.reference_rows),
            "current_rows": int(self.current_rows),
            "html_path": self.html_path,
            "json_path": self.json_path,
            "method_source": self.method_source,
            "report_sample_rows": None if self.report_sample_rows is None else dict(self.report_sample_rows),
        }


def check_drift(
    spec: PipelineSpec,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    out_dir: Path | None = None,
    score_column: str | None = None,
) -> DriftResult:
    """Compare ``current`` with ``reference`` on the spec's drift columns (and the model score).

    ``score_column`` names the model's prediction score; it is tested on its own and does not count
    towards the share of drifted features. It is skipped when either frame lacks it.
    With ``out_dir``, Evidently's HTML report and a JSON file with our verdicts and Evidently's raw
    metrics are written there.
    """
    feature_columns = list(spec.drift.columns or spec.feature_columns)
    _require_rows(reference, current)
    _require_columns(feature_columns, reference, "reference")
    _require_columns(feature_columns, current, "current")
    score = _usable_score_column(score_column, feature_columns, reference, current)

    numerical = [c for c in feature_columns if c in spec.features.numeric]
    # Binary 0/1 flags are tested as categories, where what shifts is a proportion. (Evidently picks the
    # same tests for a numerical column with <= 5 distinct values, so this is about clarity, not scores.)
    categorical = [c for c in feature_columns if c not in spec.features.numeric]
    if score is not None:
        numerical.append(score)

    if max(len(reference), len(current)) > spec.drift.exact_rows_limit:
        computed = _numpy_verdicts(
            reference,
            current,
            numerical=numerical,
            categorical=categorical,
            thresholds=_thresholds(spec, feature_columns, score),
            psi_bins=spec.drift.psi_bins,
        )
        if computed is not None:
            verdicts, psi = computed
            result = _result(spec, feature_columns, score, verdicts, psi, reference, current, source="numpy")
            if out_dir is None:
                return result
            return _write_sampled_report(
                spec, result, reference, current, numerical, categorical, feature_columns, score, Path(out_dir)
            )
        log.info("a drift column has <= %d reference values; Evidently computes the verdicts on all rows",
                 _EVIDENTLY_SMALL_REFERENCE_ROWS)

    reference_frame, current_frame = _prepare_frames(reference, current, numerical, categorical)
    snapshot, raw = _evidently_snapshot(
        spec, reference_frame, current_frame, numerical, categorical, feature_columns, score
    )
    verdicts, dataset_drift, drift_share = _read_verdicts(raw)
    psi = {
        column: population_stability_index(
            reference_frame[column], current_frame[column], numeric=column in numerical, bins=spec.drift.psi_bins
        )
        for column in [*feature_columns, *([score] if score is not None else [])]
    }

    # Evidently's own count decides the dataset verdict on this path (see _read_verdicts).
    result = _result(spec, feature_columns, score, verdicts, psi, reference, current, source="evidently",
                     share_and_verdict=(drift_share, dataset_drift))
    if out_dir is None:
        return result
    return _write_outputs(result, snapshot, raw, Path(out_dir))


def _result(
    spec: PipelineSpec,
    feature_columns: list[str],
    score: str | None,
    verdicts: dict[str, dict],
    psi: dict[str, float],
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    source: str,
    share_and_verdict: tuple[float, bool] | None = None,
) -> DriftResult:
    """The per-column verdicts as a DriftResult.

    Without ``share_and_verdict`` the dataset verdict is derived like Evidently's: DriftedColumnsCount's
    test fails at share >= drift_share.
    """
    drifted = [c for c in feature_columns if verdicts[c]["drifted"]]
    if share_and_verdict is None:
        share = len(drifted) / len(feature_columns)
        share_and_verdict = (share, share >= spec.drift.drift_share)
    drift_share, dataset_drift = share_and_verdict
    psi = {c: psi[c] for c in [*feature_columns, *([score] if score is not None else [])]}
    return DriftResult(
        dataset_drift=dataset_drift,
        drift_share=drift_share,
        drifted_columns=drifted,
        columns={c: verdicts[c] for c in feature_columns},
        score_drift=verdicts[score] if score is not None else None,
        reference_rows=len(reference),
        current_rows=len(current),
        psi=psi,
        psi_flagged=[c for c, value in psi.items() if value >= spec.drift.psi_threshold],
        method_source=source,
    )


def _require_rows(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    for frame, name in ((reference, "reference"), (current, "current")):
        if len(frame) == 0:
            raise ValueError(f"drift check needs rows in the {name} frame, but it is empty")


def _require_columns(columns: list[str], frame: pd.DataFrame, frame_name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"drift columns missing from the {frame_name} frame: {missing}")


def _usable_score_column(
    score_column: str | None, feature_columns: list[str], reference: pd.DataFrame, current: pd.DataFrame
) -> str | None:
    if score_column is None:
        return None
    if score_column in feature_columns:
        raise ValueError(f"score column {score_column!r} is also a drift feature column")
    absent_from = [
        name
        for frame, name in ((reference, "reference"), (current, "current"))
        if score_column not in frame.columns
    ]
    if absent_from:
        log.warning(
            "score column %r is not in the %s frame; prediction drift is not checked",
            score_column,
            " and ".join(absent_from),
        )
        return None
    return score_column


def _thresholds(spec: PipelineSpec, feature_columns: list[str], score: str | None) -> dict[str, float]:
    """The threshold Evidently would use: per column, else the spec-wide one, else the method's default."""
    spec_wide = spec.drift.feature_threshold
    default = _DISTANCE_DEFAULT_THRESHOLD if spec_wide is None else spec_wide
    thresholds = {c: spec.drift.per_column_threshold.get(c, default) for c in feature_columns}
    if score is not None:
        thresholds[score] = default  # the score's ValueDrift gets only the spec-wide threshold
    return thresholds


def _plain_verdict(verdict: dict) -> dict:
    return {
        "method": str(verdict["method"]),
        "score": float(verdict["score"]),
        "threshold": float(verdict["threshold"]),
        "drifted": bool(verdict["drifted"]),
    }
