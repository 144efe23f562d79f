"""Batch inference: plan, shard scoring, atomic publishing of predictions, and shadow scoring.

``model`` picks the version (pinned, champion at the run's moment, current champion) and checks the
partition against its signature, ``plan`` cuts shards, ``scoring`` scores one shard in record batches,
``publishing`` assembles the partition, ``local`` runs all three in one process, ``shadow`` scores with the
challenger next to the published predictions.

May import: the registry and everything below it.
"""

from ml_lifecycle.exceptions import NoChallenger, NoChampion, ScoringSchemaMismatch
from ml_lifecycle.inference.local import score_partition
from ml_lifecycle.inference.model import check_schema, load_model, resolve_model
from ml_lifecycle.inference.plan import plan_scoring, run_key_of, shard_dir, shard_ranges
from ml_lifecycle.inference.publishing import publish_predictions
from ml_lifecycle.inference.scoring import prediction_schema, score_shard
from ml_lifecycle.inference.shadow import shadow_score

__all__ = [
    "NoChallenger",
    "NoChampion",
    "ScoringSchemaMismatch",
    "check_schema",
    "load_model",
    "plan_scoring",
    "prediction_schema",
    "publish_predictions",
    "resolve_model",
    "run_key_of",
    "score_partition",
    "score_shard",
    "shadow_score",
    "shard_dir",
    "shard_ranges",
]
