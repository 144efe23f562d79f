"""Thin Airflow operators over the plain-Python core; importing them pulls in no heavy library.

``ContainerTrainModelOperator`` is exported lazily: it imports the Docker provider (and the docker SDK,
~0.2 s), which a DAG file that does not train in a container should not pay for at parse time.

May import: every stage's core (inside ``execute``, so parsing stays cheap), hooks, notifiers, ui.links.
"""

from typing import TYPE_CHECKING, Any

from ml_lifecycle.operators.inference import (
    BatchPredictOperator,
    PlanScoringOperator,
    PublishPredictionsOperator,
    ScoreShardOperator,
    ShadowScoreOperator,
)
from ml_lifecycle.operators.ingest import IngestOperator
from ml_lifecycle.operators.monitoring import (
    DriftCheckOperator,
    RealizedPerformanceOperator,
    RetrainingPolicyOperator,
)
from ml_lifecycle.operators.registry import (
    EvaluateModelOperator,
    GateOperator,
    ModelApprovalOperator,
    PublishModelOperator,
    RollbackOperator,
)
from ml_lifecycle.operators.training import AssembleTrainingWindowOperator, TrainModelOperator
from ml_lifecycle.operators.validation import ValidateOperator

if TYPE_CHECKING:
    from ml_lifecycle.operators.container import ContainerTrainModelOperator


def __getattr__(name: str) -> Any:
    if name == "ContainerTrainModelOperator":
        from ml_lifecycle.operators.container import ContainerTrainModelOperator

        return ContainerTrainModelOperator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AssembleTrainingWindowOperator",
    "BatchPredictOperator",
    "ContainerTrainModelOperator",
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
