"""The pipeline spec: everything pipeline-specific, in one YAML file per pipeline, loaded into typed models.

``load_spec("churn")`` reads ``include/pipelines/churn.yaml`` into a :class:`PipelineSpec`; a mistake fails
with the file and the field. ``sections`` holds the parts (source, features, model, gate, drift, ...).

May import: :mod:`ml_lifecycle.settings`, :mod:`ml_lifecycle.exceptions` (and pydantic, PyYAML).
"""

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.spec.pipeline import (
    PipelineSpec,
    load_spec,
    problems_with_data,
    spec_json_schema,
    spec_path,
)
from ml_lifecycle.spec.sections import (
    CONTAINER_RESERVED_ENVIRONMENT,
    CategoryShift,
    ContainerMountSpec,
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
    TrainingContainerSpec,
    TrainingSpec,
    ValidationSpec,
)

__all__ = [
    "CONTAINER_RESERVED_ENVIRONMENT",
    "CategoryShift",
    "ContainerMountSpec",
    "DriftSpec",
    "FeatureSpec",
    "GateSpec",
    "ModelSpec",
    "MonitoringSpec",
    "PipelineSpec",
    "RetrainingSpec",
    "ScoringSpec",
    "SimulationSpec",
    "SourceSpec",
    "SpecError",
    "TargetSpec",
    "TrainingContainerSpec",
    "TrainingSpec",
    "ValidationSpec",
    "load_spec",
    "problems_with_data",
    "spec_json_schema",
    "spec_path",
]
