"""The lake's names, in one place: zones, report kinds and every file a partition or report holds.

Everything under ``plugins/ml_lifecycle`` that opens a lake file names it through these constants (or the
typed readers of :mod:`ml_lifecycle.lake.reports`), so renaming a file is a change here only.
"""

from __future__ import annotations

from typing import Literal, get_args

SUCCESS_MARKER = "_SUCCESS"
INPUTS_KEY = "inputs_fingerprint"  # in a marker's metadata: what the content was computed from
GENERATION_PREFIX = "_gen="
MARKER_FORMAT = "ml-lifecycle/partition-v1"
LANDING = "landing"  # where sources drop files: landing/<pipeline>/<ds>/ (no ds= prefix, no generations)

Zone = Literal["raw", "quarantine", "validated", "labels", "predictions", "shadow", "reports", "training"]
ZONES: tuple[str, ...] = get_args(Zone)
ReportKind = Literal["validation", "evaluation", "gate", "drift", "performance", "retraining", "labels", "model_cards"]
REPORT_KINDS: tuple[str, ...] = get_args(ReportKind)

# ---- partitions ------------------------------------------------------------------------------------
VALIDATED_FILE = "data.parquet"  # validated/<p>/ds=<ds>/
REJECTED_FILE = "rejected.parquet"  # quarantine/<p>/ds=<ds>/: the rows as they arrived, with a reason column
REASON_FILE = "reason.json"  # quarantine/<p>/ds=<ds>/: the failed expectations and the report's location
LABELS_FILE = "labels.parquet"  # labels/<p>/ds=<arrival>/
TRAIN_FILE = "train.parquet"  # training/<p>/ds=<as_of>/
HOLDOUT_FILE = "holdout.parquet"
PREDICTIONS_FILE = "predictions.parquet"  # predictions/<p>/ds=<ds>/
SHADOW_FILE = "shadow.parquet"  # shadow/<p>/ds=<ds>/
AGREEMENT_FILE = "agreement.json"
SHARDS_DIR = ".shards"  # predictions/<p>/.shards/ds=<ds>/<run>/: scoring scratch, hidden from readers

# ---- reports (reports/<p>/<kind>/...) ----------------------------------------------------------------
VALIDATION_JSON = "validation.json"  # validation/ds=<ds>/ (plain files)
VALIDATION_HTML = "validation.html"
REJECTED_LABELS_FILE = "rejected_labels.parquet"  # labels/ds=<arrival>/
EVALUATION_JSON = "evaluation.json"  # evaluation/ds=<as_of>/
CALIBRATION_JSON = "calibration.json"
DRIFT_JSON = "drift_metrics.json"  # drift/ds=<ds>/
DRIFT_HTML = "drift_report.html"
PERFORMANCE_JSON = "performance.json"  # performance/ds=<ds>/
DECISION_JSON = "decision.json"  # retraining/ds=<ds>/
# Published with a _SUCCESS marker per date (a generation on object storage); the other kinds are plain
# files written with Lake.write_json / Lake.write_text.
PUBLISHED_REPORT_KINDS: tuple[str, ...] = ("drift", "performance", "retraining", "evaluation", "labels")


def shard_file(index: int) -> str:
    """predictions/<p>/.shards/ds=<ds>/<run>/shard-<NNNNN>.parquet: one scored shard, in plan order."""
    return f"shard-{index:05d}.parquet"


def gate_verdict_file(version: str) -> str:
    """reports/<p>/gate/ds=<as_of>/v<N>.json: the verdict of one version."""
    return f"v{version}.json"


def model_card_files(version: str) -> tuple[str, str]:
    """reports/<p>/model_cards/v<N>.md and .html."""
    return f"v{version}.md", f"v{version}.html"

__all__ = [
    "SUCCESS_MARKER",
    "INPUTS_KEY",
    "GENERATION_PREFIX",
    "MARKER_FORMAT",
    "LANDING",
    "Zone",
    "ZONES",
    "ReportKind",
    "REPORT_KINDS",
    "VALIDATED_FILE",
    "REJECTED_FILE",
    "REASON_FILE",
    "LABELS_FILE",
    "TRAIN_FILE",
    "HOLDOUT_FILE",
    "PREDICTIONS_FILE",
    "SHADOW_FILE",
    "AGREEMENT_FILE",
    "SHARDS_DIR",
    "shard_file",
    "VALIDATION_JSON",
    "VALIDATION_HTML",
    "REJECTED_LABELS_FILE",
    "EVALUATION_JSON",
    "CALIBRATION_JSON",
    "DRIFT_JSON",
    "DRIFT_HTML",
    "PERFORMANCE_JSON",
    "DECISION_JSON",
    "PUBLISHED_REPORT_KINDS",
    "gate_verdict_file",
    "model_card_files",
]
