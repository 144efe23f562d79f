"""Labels: ground truth that lands days after its features, kept under the date it *arrived*.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.exceptions import BadLabels, BadLandingFile, PartitionNotFound
from ml_lifecycle.ingest.reading import read_table, sha256_of
from ml_lifecycle.lake import LABELS_FILE, REJECTED_FILE, REJECTED_LABELS_FILE, VALIDATED_FILE, Lake
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd


def ingest_labels(spec: PipelineSpec, lake: Lake, ds: str, source: Path) -> int:
    try:
        labels = read_table(spec, source)
    except BadLandingFile as exc:
        raise BadLabels(str(exc)) from exc
    required = [spec.id_column, spec.event_date_column, spec.target.column]
    missing = [c for c in required if c not in labels.columns]
    if missing:
        raise BadLabels(f"{source}: labels file lacks columns {missing}")
    target = labels[spec.target.column]
    if target.isna().any():
        raise BadLabels(f"{source}: {int(target.isna().sum())} labels are empty")
    values = sorted({str(v) for v in target.unique()})
    if len(values) > 2 or str(spec.target.positive_class) not in values and len(values) == 2:
        raise BadLabels(
            f"{source}: invalid label values: a binary target has two values including "
            f"{spec.target.positive_class!r}, found {values[:10]}"
        )
    duplicated = labels[spec.id_column].duplicated(keep=False)
    if duplicated.any():
        ids = sorted(labels.loc[duplicated, spec.id_column].unique())
        raise BadLabels(f"{source}: {len(ids)} id(s) labelled more than once, e.g. {ids[:5]}")
    unknown = _ids_never_seen(spec, lake, labels)
    if unknown:
        # Labels of ids we never saw cannot be used, but the day's other labels (and its features) can:
        # the unknown rows are kept aside with the reason instead of blocking the whole drop.
        reason = (f"{source}: {len(unknown)} label(s) for ids that are not in the features of their event date, "
                  f"e.g. {unknown[:5]}")
        rejected = labels[labels[spec.id_column].astype(str).isin(set(unknown))]
        lake.publish_report(spec.name, "labels", ds, lambda staging: _write_rejected_labels(staging, rejected, reason))
        labels = labels[~labels.index.isin(rejected.index)]
    labels = labels[required].copy()
    labels["label_arrived_ds"] = ds
    version = sha256_of(source)

    def write(staging: Path) -> dict[str, Any]:
        labels.to_parquet(staging / LABELS_FILE, index=False)
        return {"data_version": version, "rows": len(labels), "source_path": lake.location(source)}

    lake.publish_partition("labels", spec.name, ds, write)
    return len(labels)


def _write_rejected_labels(staging: Path, rejected: pd.DataFrame, reason: str) -> dict[str, Any]:
    rejected.assign(reason=reason).to_parquet(staging / REJECTED_LABELS_FILE, index=False)
    return {"rejected_rows": len(rejected), "reason": reason}


def _ids_never_seen(spec: PipelineSpec, lake: Lake, labels: pd.DataFrame) -> list[str]:
    """Label ids that were neither validated nor quarantined on their event date.

    Only dates that were validated or quarantined are checked: a date whose features never arrived (or
    are still to be validated) has nothing to compare against yet.
    """
    import pandas as pd

    unknown: list[str] = []
    for event_ds, group in labels.groupby(spec.event_date_column):
        seen: set[str] = set()
        checked = False
        for zone, file in (("validated", VALIDATED_FILE), ("quarantine", REJECTED_FILE)):
            try:
                directory = lake.require_partition(zone, spec.name, str(event_ds))
            except (PartitionNotFound, ValueError):  # ValueError: an event date that is not a date
                continue
            if (directory / file).is_file():
                ids = pd.read_parquet(directory / file, columns=None)
                if spec.id_column in ids.columns:
                    seen |= set(ids[spec.id_column].dropna().astype(str))
                    checked = True
        if checked:
            unknown += sorted(str(i) for i in group[spec.id_column] if i not in seen)
    return unknown
