"""Thin Airflow operators over the plain-Python core; importing them pulls in no heavy library."""

from ml_lifecycle.operators.drift import DriftCheckOperator, RetrainingPolicyOperator
from ml_lifecycle.operators.evaluate import EvaluateModelOperator
from ml_lifecycle.operators.ingest import IngestOperator
from ml_lifecycle.operators.performance import RealizedPerformanceOperator
from ml_lifecycle.operators.predict import (
    BatchPredictOperator,
    PlanScoringOperator,
    PublishPredictionsOperator,
    ScoreShardOperator,
    ShadowScoreOperator,
)
from ml_lifecycle.operators.promote import GateOperator, ModelApprovalOperator, PublishModelOperator
from ml_lifecycle.operators.rollback import RollbackOperator
from ml_lifecycle.operators.train import AssembleTrainingWindowOperator, TrainModelOperator
from ml_lifecycle.operators.validate import ValidateOperator

__all__ = [
    "AssembleTrainingWindowOperator",
    "BatchPredictOperator",
    "DriftCheckOperator",
    "EvaluateModelOperator",
    "GateOperator",
    "IngestOperator",
    "ModelApprovalOperator",
    "PlanScoringOperator",
    "PublishModelOperator",
    "PublishPredictionsOperator",
    "RealizedPerformanceOperator",
    "RetrainingPolicyOperator",
    "RollbackOperator",
    "ScoreShardOperator",
    "ShadowScoreOperator",
    "TrainModelOperator",
    "ValidateOperator",
]
