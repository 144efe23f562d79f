"""Plan, score and publish in one process (CLI, tests, benchmark), shards in single-thread worker processes.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Any

from ml_lifecycle.contracts import PredictionsResult, ScoringShard, ShardResult
from ml_lifecycle.inference.model import load_model
from ml_lifecycle.inference.plan import plan_scoring
from ml_lifecycle.inference.publishing import _remove_shards, publish_predictions
from ml_lifecycle.inference.scoring import score_shard
from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def score_partition(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    target: TrackingTarget,
    *,
    moment: datetime | str | None = None,
    model_version: str | int | None = None,
    scored_at: datetime | None = None,
) -> PredictionsResult:
    """Plan, score every shard and publish, in this process (the model is loaded once)."""
    shards = plan_scoring(spec, lake, ds, target, moment=moment, model_version=model_version,
                          run_key=f"local-{uuid.uuid4().hex[:12]}", scored_at=scored_at)
    workers = min(len(shards), spec.scoring.local_processes or os.cpu_count() or 1)
    try:
        if workers > 1:
            results = _score_shards_in_processes(spec, lake, shards, target, workers)
        else:
            model = load_model(spec, target, shards[0]["model_version"])
            results = [score_shard(spec, lake, shard, target, model=model) for shard in shards]
        published = publish_predictions(spec, lake, shards, results)
        if workers > 1:
            published["workers"] = workers
            published["worker_peak_rss_mb"] = max(r.get("worker_peak_rss_mb", 0.0) for r in results)
        return published
    finally:
        _remove_shards(lake, spec, shards[0]["ds"], shards[0]["run_key"])


def _score_shards_in_processes(
    spec: PipelineSpec, lake: Lake, shards: list[ScoringShard], target: TrackingTarget, workers: int
) -> list[ShardResult]:
    """Score shards in single-thread worker processes, the local twin of mapped score_shard tasks.

    Processes rather than OpenMP threads: one thread per process keeps its speed when another process
    holds a core, where two threads slow 2-3x. ``forkserver`` (not ``fork``): forking a process whose
    OpenMP runtime already ran can deadlock the child; the server starts clean with the libraries preloaded.
    """
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pandas", "pyarrow.parquet", "sklearn.ensemble", "mlflow.sklearn", "threadpoolctl"])
    jobs = [(spec, lake.uri, shard, target) for shard in shards]
    with context.Pool(processes=workers) as pool:
        return pool.starmap(_score_shard_job, jobs, chunksize=1)

_worker_models: dict[str, Any] = {}


def _score_shard_job(spec: PipelineSpec, lake_root: str, shard: ScoringShard, target: TrackingTarget) -> ShardResult:
    # A worker keeps its loaded model for the next shard of the same version.
    version = str(shard["model_version"])
    if version not in _worker_models:
        _worker_models[version] = load_model(spec, target, version)
    import resource

    result = score_shard(spec, Lake(lake_root), shard, target, model=_worker_models[version])
    result["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result
