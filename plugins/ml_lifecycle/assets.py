"""The Assets through which the workflows hand off: data-aware scheduling instead of polling sensors."""

from __future__ import annotations

from airflow.sdk import Asset

GROUP = "ml_lifecycle"


def _asset(pipeline: str, what: str) -> Asset:
    return Asset(name=f"{pipeline}.{what}", uri=f"ml-lifecycle://{pipeline}/{what}", group=GROUP)


def validated_data(pipeline: str) -> Asset:
    """A validated partition was published."""
    return _asset(pipeline, "validated")


def predictions(pipeline: str) -> Asset:
    """A predictions partition was published."""
    return _asset(pipeline, "predictions")


def retraining_request(pipeline: str) -> Asset:
    """The retraining policy asked for a new model; the training workflow is scheduled on it."""
    return _asset(pipeline, "retraining_request")


def champion(pipeline: str) -> Asset:
    """The champion alias moved."""
    return _asset(pipeline, "champion")
