"""Validation: the data contract of each day's batch, judged by Great Expectations.

``suite`` loads the versioned suite files, ``gx_run`` runs them (with the fast pandas ``screening`` of
simple kinds for large batches, same verdicts), ``results`` turns GX's output into readable rows, ``rows``
finds the invalid rows and types the valid ones, ``report`` renders the HTML, ``routing`` publishes the
batch as ``validated`` or quarantines it, ``drafting`` profiles a draft suite, ``spec_check`` checks that a
pipeline (spec, suite, sample data) is ready to run.

May import: ingest, the lake, the spec, metrics, exceptions.
"""

from ml_lifecycle.exceptions import DataValidationError
from ml_lifecycle.validation.drafting import draft_suite_from_frame, profile_partition
from ml_lifecycle.validation.gx_run import ValidationOutcome, run_suite
from ml_lifecycle.validation.results import describe_failures
from ml_lifecycle.validation.routing import recent_row_count_expectation, validate_partition
from ml_lifecycle.validation.rows import invalid_rows, typed_frame
from ml_lifecycle.validation.screening import screen
from ml_lifecycle.validation.spec_check import check_pipeline, validate_specs
from ml_lifecycle.validation.suite import SEVERITY_ERROR, SEVERITY_WARN, load_suite, suite_sha256

__all__ = [
    "DataValidationError",
    "SEVERITY_ERROR",
    "SEVERITY_WARN",
    "ValidationOutcome",
    "check_pipeline",
    "describe_failures",
    "draft_suite_from_frame",
    "invalid_rows",
    "load_suite",
    "profile_partition",
    "recent_row_count_expectation",
    "run_suite",
    "screen",
    "suite_sha256",
    "typed_frame",
    "validate_partition",
    "validate_specs",
]
