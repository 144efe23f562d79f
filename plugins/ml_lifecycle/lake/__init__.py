"""The data lake's layout and its one write rule: a partition becomes visible only when complete.

Layout: ``landing/<pipeline>/<ds>/`` is where sources drop files;
``<zone>/<pipeline>/ds=<ds>/`` holds everything we write. A partition is written into a hidden
temporary folder, gets a ``_SUCCESS`` marker with its metadata, and is then renamed into place;
re-writing a date swaps the whole folder, so readers see the old partition or the new one, never a mix.
A writer that passes ``inputs`` (a :func:`fingerprint_of` what it computed from) makes re-runs no-ops:
the same inputs leave the published partition exactly as it is, byte for byte.

The root is a local folder (the default, ``ML_LIFECYCLE_LAKE_ROOT`` or ``Lake(root)``) or any fsspec URI
(``s3://bucket/prefix``). On a local root everything above holds literally. On object storage, which has
no rename, the same guarantees come from generations:

- A write goes under a fresh prefix ``<zone>/<pipeline>/ds=<ds>/_gen=<generation>/``; the partition's
  ``_SUCCESS`` marker is written last, in one small PUT (atomic on S3), and names the generation, its files
  (path and size) and the metadata: ``{"format": "ml-lifecycle/partition-v1", "generation": ...,
  "files": [...], "metadata": {...}}``. Readers resolve a partition through its marker only, so they see
  the old generation or the new one, never a mix and never a half-written one. The superseded
  generation is deleted once the marker has moved (generations of crashed writers after
  ``ORPHAN_GRACE_SECONDS``); a reader whose generation vanished while it downloaded resolves again.
- The core keeps doing local file I/O. ``partition_dir`` / ``require_partition`` / ``report_dir`` /
  ``landing_dir`` return a local folder of the lake cache (``ML_LIFECYCLE_LAKE_CACHE``, by default
  ``<local home>/lake-cache/<root>-<hash>/``, the same layout as the lake) into which the complete
  generation was downloaded once: ``.../ds=<ds>/_gen=<generation>/``, never modified afterwards (a
  partition that is not published resolves to ``.../ds=<ds>/``, which holds no ``_SUCCESS``). Writes fill
  the same local staging folder as on a local root; the publish uploads it, then writes the marker.
  ``partitions``/``reports`` list markers; ``partition_metadata`` reads the marker without downloading.
- Landing drops are written by the sources without generations (files, then ``_SUCCESS``); they are
  read through the same cache, keyed by their listing (names, sizes, ETags). ``publish_landing`` lands
  a drop the same way (the simulator uses it).
- Files outside partitions (validation and gate reports, model cards) go through :meth:`Lake.write_json`
  / :meth:`Lake.write_text` (one PUT each); the scoring shards through :meth:`Lake.commit_file`,
  :meth:`Lake.fetch_file` and :meth:`Lake.remove_tree`. Pass :attr:`Lake.uri` to other processes.
- Credentials and endpoint: the standard AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3`` for an
  S3-compatible server: botocore resolves them, and s3fs 2026.9 leaves the endpoint to botocore when it
  is not given). ``ML_LIFECYCLE_LAKE_STORAGE_OPTIONS`` optionally holds a JSON object of fsspec storage
  options passed to the filesystem (``{"endpoint_url": "http://minio:9000"}``, ``{"anon": true}``, or a
  GCS/Azure backend's options). A bad URI, a missing bucket or an unreachable store raises
  :class:`LakeStorageError` naming the lake root. s3fs is imported on first use only.

What this package may import: :mod:`ml_lifecycle.settings` and :mod:`ml_lifecycle.exceptions` only.
Modules: ``layout`` (the names), ``files`` (local atomic writes), ``lake`` (:class:`Lake`), ``generations``
and ``store`` (object storage), ``reports`` (typed readers of the report files).
"""

from ml_lifecycle.exceptions import LakeStorageError, PartitionNotFound
from ml_lifecycle.lake.files import (
    Writer,
    as_ds,
    fingerprint_of,
    is_object_storage,
    publish_folder,
    storage_options_for,
    write_json,
    write_text,
)
from ml_lifecycle.lake.lake import Lake
from ml_lifecycle.lake.layout import (
    AGREEMENT_FILE,
    CALIBRATION_JSON,
    DECISION_JSON,
    DRIFT_HTML,
    DRIFT_JSON,
    EVALUATION_JSON,
    GENERATION_PREFIX,
    HOLDOUT_FILE,
    INPUTS_KEY,
    LABELS_FILE,
    LANDING,
    MARKER_FORMAT,
    PERFORMANCE_JSON,
    PREDICTIONS_FILE,
    PUBLISHED_REPORT_KINDS,
    REASON_FILE,
    REJECTED_FILE,
    REJECTED_LABELS_FILE,
    REPORT_KINDS,
    SHADOW_FILE,
    SHARDS_DIR,
    SUCCESS_MARKER,
    TRAIN_FILE,
    VALIDATED_FILE,
    VALIDATION_HTML,
    VALIDATION_JSON,
    ZONES,
    ReportKind,
    Zone,
    gate_verdict_file,
    model_card_files,
    shard_file,
)
from ml_lifecycle.lake.reports import (
    drift_html,
    drift_verdicts,
    latest_report,
    quarantine_reason,
    quarantined_rows,
    read_report,
    report_path,
)

__all__ = [
    "Lake",
    "LakeStorageError",
    "PartitionNotFound",
    "Writer",
    "as_ds",
    "fingerprint_of",
    "is_object_storage",
    "publish_folder",
    "storage_options_for",
    "write_json",
    "write_text",
    "drift_html",
    "drift_verdicts",
    "latest_report",
    "quarantine_reason",
    "quarantined_rows",
    "read_report",
    "report_path",
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
    "shard_file",
]
