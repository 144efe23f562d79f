"""What each stage hands to the next: the typed results that go to XCom, to the UI and to the report files.

Every core function of a stage returns one of these (plain JSON-able dicts, so XCom stores them as they
are); an operator adds ``core_seconds``. A field added here is a field every consumer can rely on: the
next task, the Models view, the demo's summary, and a user's own task wired in with ``>>``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Decision = Literal["PROMOTE", "HOLD", "REJECT"]


# ---- ingest and validation ------------------------------------------------------------------------
class IngestResult(TypedDict):
    """``ingest_landing``: the day's raw version (``status`` ingested, new_version or unchanged)."""

    status: str
    ds: str
    data_version: str
    rows: int | None
    raw_path: str
    replaced_version: NotRequired[str | None]
    label_rows: int


class ValidationResult(TypedDict):
    """``validate_partition`` for a batch that passed (a rejected one raises ``DataValidationError``)."""

    status: str  # passed, passed_with_rows_dropped, unchanged
    rows: int
    rows_validated: int
    rows_rejected: int
    warnings: int
    report_path: str
    report_json: str
    validated_path: str
    data_version: str
    row_count_bounds: list[int] | None


# ---- training -------------------------------------------------------------------------------------
class ValidationSummary(TypedDict):
    partitions: int
    rows: int
    warnings: int
    warnings_by_day: dict[str, int]
    suites: list[str]


class TrainingWindow(TypedDict):
    """``assemble_window``: where the train and holdout splits are and what they were built from."""

    as_of: str
    train_path: str
    holdout_path: str
    train_rows: int
    holdout_rows: int
    positive_rate: float
    partitions: list[str]
    data_versions: dict[str, str | None]
    validation: ValidationSummary
    holdout_from: str


class TrainedModel(TypedDict):
    """``train_and_register``: the new registered version and its MLflow run."""

    model_name: str
    version: str
    run_id: str
    experiment_id: str
    model_uri: str
    train_rows: int


# ---- registry -------------------------------------------------------------------------------------
class ModelRef(TypedDict):
    version: str
    run_id: str


class ResolvedModel(ModelRef):
    source: str  # pinned, champion_at, current_champion


class ClassificationMetrics(TypedDict):
    roc_auc: float
    pr_auc: float
    f1: float
    log_loss: float
    brier: float


class PairedDifference(TypedDict):
    """candidate - champion on the same rows: point estimate and percentile bootstrap interval."""

    delta: float
    low: float
    high: float
    resamples: int
    confidence: float


class SliceResult(TypedDict):
    slice: str
    column: str
    value: str
    rows: int
    positives: int
    candidate: NotRequired[ClassificationMetrics]
    champion: NotRequired[ClassificationMetrics]
    difference: NotRequired[PairedDifference]
    note: NotRequired[str]


class CalibrationBin(TypedDict):
    bin_low: float
    bin_high: float
    rows: int
    mean_score: float
    observed_rate: float


class Latency(TypedDict):
    rows: int
    predict_ms: float
    load_ms: float
    model_uri: str


class Evaluation(TypedDict):
    """``evaluate_candidate``: candidate and champion on the same holdout rows (also ``evaluation.json``)."""

    model_name: str
    candidate_version: str
    candidate: ClassificationMetrics
    champion_version: str | None
    champion: ClassificationMetrics | None
    primary_metric: str
    difference: PairedDifference | None
    slices: list[SliceResult]
    calibration: list[CalibrationBin]
    latency: Latency
    model_bytes: int
    holdout_rows: int
    holdout_positive_rate: float
    load_and_score_seconds: float
    report_path: NotRequired[str]


class RecordedVerdict(TypedDict):
    """``record_verdict``: the gate's verdict as stored on the version (tags and ``gate/verdict.json``)."""

    model_name: str
    decision: Decision
    candidate_version: str
    champion_version: str | None
    previous_champion: str | None
    reasons: list[str]
    failed_checks: list[str]
    forced: bool
    judged_decision: Decision
    judged_at: str


class GateResult(RecordedVerdict):
    """``judge_candidate`` (the gate task): the verdict plus its evidence (also ``gate/ds=<as_of>/v<N>.json``)."""

    smoke_test: str
    approval_required: bool
    model_card: str
    model_card_html: str
    report_path: str


class ChampionMove(TypedDict):
    """``publish`` and ``rollback``: the champion alias moved."""

    champion_version: str
    previous_champion: str | None
    action: str  # promote, forced_promote, rollback, repromote
    at: str


class PublishResult(ChampionMove):
    decision: Decision
    candidate_version: str
    approved_by: str | None


class RollbackResult(ChampionMove):
    reason: str
    actor: str


class AliasEvent(TypedDict):
    """One move of an alias in the audited history (one MLflow run in ``<pipeline>-registry-events``)."""

    alias: str
    from_version: str  # "none" when the alias was absent
    to_version: str  # "none" when it was removed
    action: str
    actor: str
    reason: str
    at: str
    model_name: str
    lineage: NotRequired[dict[str, str]]
    event_run_id: str


# ---- inference ------------------------------------------------------------------------------------
class ScoringShard(TypedDict):
    """One element of ``plan_scoring``'s plan: what a mapped ``score_shard`` task scores."""

    ds: str
    model_name: str
    model_version: str
    model_run_id: str
    model_source: str
    moment: str | None
    scored_at: str
    run_key: str
    input_data_version: str | None
    index: int
    shards: int
    row_start: int
    row_stop: int


class ShardResult(TypedDict):
    index: int
    rows: int
    positives: int
    path: str
    worker_peak_rss_mb: NotRequired[float]


class PredictionsResult(TypedDict):
    """``publish_predictions`` / ``score_partition``: the published ``predictions/`` partition."""

    ds: str
    rows: int
    predicted_positive: int
    model_name: str
    model_version: str
    model_run_id: str
    model_source: str
    shards: int
    predictions_path: str
    workers: NotRequired[int]
    worker_peak_rss_mb: NotRequired[float]


class Agreement(TypedDict):
    """How the challenger's scores compare with the champion's on the same rows (``agreement.json``)."""

    rows: int
    pearson: float | None
    decision_agreement: float | None
    ks_statistic: float | None
    mean_shift: float | None
    champion_positive_rate: NotRequired[float]
    challenger_positive_rate: NotRequired[float]
    ds: NotRequired[str]
    champion_version: NotRequired[str]
    challenger_version: NotRequired[str]
    challenger_run_id: NotRequired[str]


class ShadowResult(Agreement):
    shadow_path: str
    monitoring_run_id: str


# ---- monitoring -----------------------------------------------------------------------------------
class ColumnVerdict(TypedDict):
    method: str
    score: float
    threshold: float
    drifted: bool


class DriftReport(TypedDict):
    """``drift_metrics.json``: every column's verdict, the dataset verdict, PSI, and Evidently's raw metrics."""

    dataset_drift: bool
    drift_share: float
    drifted_columns: list[str]
    columns: dict[str, ColumnVerdict]
    score_drift: ColumnVerdict | None
    reference_rows: int
    current_rows: int
    html_path: str | None
    json_path: str | None
    psi: dict[str, float]
    psi_flagged: list[str]
    method_source: str
    report_sample_rows: dict[str, int] | None
    evidently: NotRequired[dict[str, Any]]


class DriftSummary(TypedDict):
    """``check_partition_drift`` (the drift_check task)."""

    ds: str
    dataset_drift: bool
    drift_share: float
    drifted_columns: list[str]
    score_drift: bool | None
    psi_flagged: list[str]
    reference_version: str
    report_path: str


class RollbackDecision(TypedDict):
    rollback: bool
    reason: str
    from_version: str | None
    to_version: str | None
    evidence: dict[str, Any]


class PerformanceSummary(TypedDict):
    """``realized_performance``: the day's ``performance.json`` in short."""

    ds: str
    labelled_rows: int
    event_dates: int
    window: dict[str, Any]
    versions: dict[str, dict[str, Any]]
    report_path: str


class PerformanceReview(PerformanceSummary):
    """``review_realized_performance`` (the realized_performance task)."""

    rollback_decision: RollbackDecision
    rolled_back: RollbackResult | None


class RetrainingRecord(TypedDict):
    """``decide_and_record_retraining``: the day's decision with its inputs (``retraining/.../decision.json``)."""

    ds: str
    retrain: bool
    reason: str
    drift_days: int
    trigger: str | None
    blocked_by: str | None
    checks: dict[str, Any]
    inputs: dict[str, Any]
    decided_at: str
    recorded_before: NotRequired[bool]
