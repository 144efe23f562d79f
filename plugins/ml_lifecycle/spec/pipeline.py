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
from pydantic import ConfigDict, Field, ValidationError, model_validator

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.settings import include_dir
from ml_lifecycle.spec.sections import (
    DriftSpec,
    FeatureSpec,
    GateSpec,
    ModelSpec,
    MonitoringSpec,
    RetrainingSpec,
    ScoringSpec,
    SimulationSpec,
    SourceSpec,
    TargetSpec,
    TrainingSpec,
    ValidationSpec,
    _Strict,
)


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
    monitoring: MonitoringSpec = MonitoringSpec()
    scoring: ScoringSpec = ScoringSpec()
    slices: list[str] = Field(default_factory=list)  # features whose values the gate judges separately
    approval: Literal["none", "required"] = "none"  # required: a human approves each promotion in Airflow
    validation: ValidationSpec = ValidationSpec()
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
        unknown = sorted(set(self.drift.per_column_threshold) - set(self.drift.columns or features))
        if unknown:
            raise ValueError(f"drift.per_column_threshold names columns that are not drift columns: {unknown}")
        unknown = sorted(set(self.slices) - features)
        if unknown:
            raise ValueError(f"slices names columns that are not features: {unknown}")
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


def spec_json_schema() -> dict[str, Any]:
    """JSON schema of a pipeline spec, for editors (``include/pipelines/pipeline.schema.json``)."""
    schema = PipelineSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ml-lifecycle pipeline spec"
    return schema


def problems_with_data(spec: PipelineSpec, columns: list[str], target_values: list[Any] | None = None) -> list[str]:
    """What in the spec does not match a sample of the data: each problem names the spec's field."""
    present = set(columns)
    problems = []
    for group in ("numeric", "binary", "categorical"):
        for name in getattr(spec.features, group):
            if name not in present:
                problems.append(f"features.{group}: {name!r} is not a column of the data")
    if spec.target.column not in present:
        problems.append(f"target.column: {spec.target.column!r} is not a column of the data")
    elif target_values is not None:
        values = sorted({str(v) for v in target_values})
        if str(spec.target.positive_class) not in values:
            problems.append(
                f"target.positive_class: {spec.target.positive_class!r} is not a value of "
                f"{spec.target.column} (values: {', '.join(values[:10])})"
            )
    return problems
