"""The training window: validated features joined with the labels that had *arrived* by ``as_of``, split by time.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import TrainingWindow, ValidationSummary
from ml_lifecycle.exceptions import InsufficientTrainingData
from ml_lifecycle.lake import HOLDOUT_FILE, LABELS_FILE, TRAIN_FILE, VALIDATED_FILE, Lake, as_ds
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.training.features import LABEL

if TYPE_CHECKING:
    import pandas as pd


def assemble_window(spec: PipelineSpec, lake: Lake, as_of: str) -> TrainingWindow:
    """Join validated features with the labels that had *arrived* by ``as_of``; split by event date.

    Writes ``training/<pipeline>/ds=<as_of>/{train,holdout}.parquet`` and returns their paths with the
    data versions of every partition used.
    """
    import pandas as pd

    as_of = as_ds(as_of)
    first_day = (date.fromisoformat(as_of) - timedelta(days=spec.training.window_days - 1)).isoformat()
    feature_days = [d for d in lake.partitions("validated", spec.name) if first_day <= d <= as_of]
    label_days = [d for d in lake.partitions("labels", spec.name) if d <= as_of]
    if not feature_days or not label_days:
        raise InsufficientTrainingData(
            f"{spec.name}: no validated partitions ({len(feature_days)}) or labels ({len(label_days)}) "
            f"in the window {first_day}..{as_of}"
        )
    features = pd.concat(
        [pd.read_parquet(lake.partition_dir("validated", spec.name, d) / VALIDATED_FILE) for d in feature_days],
        ignore_index=True,
    )
    labels = pd.concat(
        [pd.read_parquet(lake.partition_dir("labels", spec.name, d) / LABELS_FILE) for d in label_days],
        ignore_index=True,
    ).drop_duplicates(subset=[spec.id_column, spec.event_date_column], keep="last")
    labels[LABEL] = (labels[spec.target.column].astype(str) == str(spec.target.positive_class)).astype("int64")
    joined = features.merge(
        labels[[spec.id_column, spec.event_date_column, LABEL]],
        on=[spec.id_column, spec.event_date_column],
        how="inner",
        validate="one_to_one",
    ).sort_values([spec.event_date_column, spec.id_column], kind="stable", ignore_index=True)

    train, holdout = _split_by_event_date(spec, joined)
    for name, part in (("train", train), ("holdout", holdout)):
        if part[LABEL].nunique() < 2:
            raise InsufficientTrainingData(f"{spec.name}: the {name} split has only one class")
    if len(train) < spec.training.min_rows:
        raise InsufficientTrainingData(
            f"{spec.name}: {len(train)} labelled training rows up to {as_of}; training.min_rows is "
            f"{spec.training.min_rows}"
        )

    metadata = {d: lake.partition_metadata("validated", spec.name, d) for d in feature_days}
    versions = {d: meta.get("data_version") for d, meta in metadata.items()}
    used_feature_days = sorted(joined[spec.event_date_column].unique().tolist())

    def write(staging: Path) -> dict[str, Any]:
        train.to_parquet(staging / TRAIN_FILE, index=False)
        holdout.to_parquet(staging / HOLDOUT_FILE, index=False)
        return {"as_of": as_of, "train_rows": len(train), "holdout_rows": len(holdout)}

    folder = lake.publish_partition("training", spec.name, as_of, write)
    return {
        "as_of": as_of,
        # Lake locations: the files themselves on a local lake, their (immutable) objects on object storage,
        # so that a task on another machine reads the same generation.
        "train_path": lake.location(folder / TRAIN_FILE),
        "holdout_path": lake.location(folder / HOLDOUT_FILE),
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "positive_rate": round(float(joined[LABEL].mean()), 4),
        "partitions": used_feature_days,
        "data_versions": {d: versions[d] for d in used_feature_days},
        "validation": validation_summary({d: metadata[d] for d in used_feature_days}),
        "holdout_from": str(holdout[spec.event_date_column].min()),
    }


def validation_summary(metadata: dict[str, dict[str, Any]]) -> ValidationSummary:
    """Compact summary of the validated partitions' ``_SUCCESS`` metadata: rows, warnings, suite."""
    suites = sorted({f"{m.get('suite')}@{str(m.get('suite_sha256') or '')[:12]}" for m in metadata.values()})
    return {
        "partitions": len(metadata),
        "rows": sum(int(m.get("rows") or 0) for m in metadata.values()),
        "warnings": sum(int(m.get("warnings") or 0) for m in metadata.values()),
        "warnings_by_day": {d: int(m["warnings"]) for d, m in sorted(metadata.items()) if m.get("warnings")},
        "suites": suites,
    }


def compact_validation(summary: ValidationSummary) -> str:
    """The validation summary as one short tag value (MLflow tag values are length-limited)."""
    by_day = ",".join(f"{d}:{w}" for d, w in summary.get("warnings_by_day", {}).items()) or "none"
    return (f"partitions={summary['partitions']} rows={summary['rows']} warnings={summary['warnings']} "
            f"warning_days={by_day} suite={'|'.join(summary['suites'])}")[:4900]


def _split_by_event_date(spec: PipelineSpec, joined: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    # The most recent days form the holdout, so the model is judged on data newer than it learned from.
    days = sorted(joined[spec.event_date_column].unique())
    if len(days) < 2:
        raise InsufficientTrainingData(f"{spec.name}: labelled data covers only {len(days)} day(s); need 2+")
    holdout_days = max(1, round(len(days) * spec.training.holdout_fraction))
    cut = days[-holdout_days]
    is_holdout = joined[spec.event_date_column] >= cut
    return joined[~is_holdout].reset_index(drop=True), joined[is_holdout].reset_index(drop=True)
