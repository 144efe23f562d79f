"""Monitoring: drift, realized performance, the retraining policy and the automatic rollback check.

``drift`` (with ``drift_evidently`` and ``drift_statistics``) compares a batch with a reference, and
``drift_check`` runs it daily against the champion's training sample; ``performance`` joins late labels
to predictions; ``rollback_check`` decides whether a new champion goes back; ``retraining`` is the policy
(a pure function) and ``retraining_request`` applies it to what the lake shows.

May import: inference, the registry and everything below them.
"""

from ml_lifecycle.monitoring.drift import DriftResult, check_drift
from ml_lifecycle.monitoring.drift_check import check_partition_drift
from ml_lifecycle.monitoring.drift_statistics import population_stability_index
from ml_lifecycle.monitoring.performance import (
    labelled_predictions,
    latest_performance,
    performance_report,
    realized_performance,
)
from ml_lifecycle.monitoring.retraining import RetrainingDecision, decide_retraining, drift_streak
from ml_lifecycle.monitoring.retraining_request import (
    decide_and_record_retraining,
    drift_history,
    realized_window,
)
from ml_lifecycle.monitoring.rollback_check import review_realized_performance, rollback_check

__all__ = [
    "DriftResult",
    "RetrainingDecision",
    "check_drift",
    "check_partition_drift",
    "decide_and_record_retraining",
    "decide_retraining",
    "drift_history",
    "drift_streak",
    "labelled_predictions",
    "latest_performance",
    "performance_report",
    "population_stability_index",
    "realized_performance",
    "realized_window",
    "review_realized_performance",
    "rollback_check",
]
