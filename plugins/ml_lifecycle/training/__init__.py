"""Training: the point-in-time training window, the features and the model, a logged and registered version.

``window`` assembles the window from validated partitions and arrived labels, ``features`` builds the
serving frame and the scikit-learn Pipeline, ``fit`` trains and registers it in MLflow, ``safety`` holds
the reviewed skops trusted types, ``provenance`` the code and library versions.

May import: validation, ingest, the lake, the spec, tracking, metrics, exceptions. Never the registry:
which version serves is decided there.
"""

from ml_lifecycle.exceptions import InsufficientTrainingData, UntrustedModelTypes
from ml_lifecycle.training.features import LABEL, build_pipeline, model_input, smoke_sample
from ml_lifecycle.training.fit import HOLDOUT_ARTIFACT, REFERENCE_ARTIFACT, train_and_register
from ml_lifecycle.training.provenance import code_version, library_versions, serving_requirements
from ml_lifecycle.training.safety import SKOPS_TRUSTED, check_trusted_types
from ml_lifecycle.training.window import assemble_window, compact_validation, validation_summary

__all__ = [
    "InsufficientTrainingData",
    "LABEL",
    "HOLDOUT_ARTIFACT",
    "REFERENCE_ARTIFACT",
    "SKOPS_TRUSTED",
    "UntrustedModelTypes",
    "assemble_window",
    "build_pipeline",
    "check_trusted_types",
    "code_version",
    "compact_validation",
    "library_versions",
    "model_input",
    "serving_requirements",
    "smoke_sample",
    "train_and_register",
    "validation_summary",
]
