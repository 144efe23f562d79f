"""Shadow scoring: the ``challenger`` scores the same partition into ``shadow/``, compared with the champion.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from ml_lifecycle.contracts import ShadowResult
from ml_lifecycle.exceptions import NoChallenger
from ml_lifecycle.inference.model import check_schema, load_model
from ml_lifecycle.inference.scoring import _prediction_table, _scored_batches, prediction_schema
from ml_lifecycle.lake import (
    AGREEMENT_FILE,
    PREDICTIONS_FILE,
    SHADOW_FILE,
    VALIDATED_FILE,
    Lake,
    as_ds,
    write_json,
)
from ml_lifecycle.metrics import agreement_stats
from ml_lifecycle.registry import aliased_version
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def shadow_score(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    target: TrackingTarget,
    *,
    lineage: dict[str, str] | None = None,
    scored_at: datetime | None = None,
) -> ShadowResult:
    """Score the partition with the ``challenger`` into ``shadow/``; compare with the published predictions.

    Raises :class:`NoChallenger` when there is no challenger or it is the model that scored the
    predictions. The predictions partition is only read.
    """
    import numpy as np
    import pyarrow.parquet as pq

    ds = as_ds(ds)
    published = lake.require_partition("predictions", spec.name, ds)
    champion_meta = lake.partition_metadata("predictions", spec.name, ds)

    challenger = aliased_version(spec, target, "challenger")
    if challenger is None or challenger["version"] == str(champion_meta.get("model_version")):
        raise NoChallenger(f"{spec.model.registered_name}: no challenger other than "
                           f"v{champion_meta.get('model_version')} to shadow-score")
    source = lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE
    name = spec.model.registered_name
    check_schema(spec, source, f"models:/{name}/{challenger['version']}")
    model = load_model(spec, target, challenger["version"])
    champion = pq.read_table(published / PREDICTIONS_FILE, columns=[spec.id_column, "score", "decision"])
    rows = champion.num_rows
    shard = {"model_name": name, "model_version": challenger["version"], "model_run_id": challenger["run_id"],
             "scored_at": (scored_at or datetime.now(UTC)).astimezone(UTC).isoformat()}
    agreement: dict[str, Any] = {}

    def write(staging: Path) -> dict[str, Any]:
        parts = []
        offset = 0
        with pq.ParquetWriter(staging / SHADOW_FILE, prediction_schema(spec)) as writer:
            for keys, scores in _scored_batches(spec, source, model, 0, rows):
                ids = champion.column(spec.id_column).slice(offset, len(scores)).combine_chunks()
                if not ids.equals(keys.column(0).cast(ids.type)):
                    raise RuntimeError(f"shadow ds={ds}: validated rows no longer line up with the predictions")
                offset += len(scores)
                writer.write_table(_prediction_table(spec, keys, scores, shard))
                parts.append(scores)
        if offset != rows:
            raise RuntimeError(f"shadow ds={ds}: scored {offset} rows, the predictions have {rows}")
        shadow_scores = np.concatenate(parts) if parts else np.empty(0)
        champion_scores = champion.column("score").to_numpy()
        agreement.update(agreement_stats(champion_scores, shadow_scores, spec.decision_threshold))
        agreement.update({"ds": ds, "champion_version": str(champion_meta.get("model_version")),
                          "challenger_version": challenger["version"], "challenger_run_id": challenger["run_id"]})
        write_json(staging / AGREEMENT_FILE, agreement)
        return {"rows": rows, "model_version": challenger["version"],
                "champion_version": agreement["champion_version"], "input_data_version": champion_meta.get("input_data_version")}

    final = lake.publish_partition("shadow", spec.name, ds, write)
    run_id = _log_shadow_run(spec, target, ds, agreement, final / AGREEMENT_FILE, lineage or {})
    return cast(ShadowResult, {**agreement, "shadow_path": str(final / SHADOW_FILE), "monitoring_run_id": run_id})


def _log_shadow_run(
    spec: PipelineSpec, target: TrackingTarget, ds: str, agreement: dict[str, Any], report: Path,
    lineage: dict[str, str],
) -> str:
    import mlflow

    target.activate()
    experiment_id = target.experiment_id(f"{spec.name}-monitoring")
    tags = {"pipeline": spec.name, "monitoring": "shadow", "ds": ds,
            "champion_version": agreement["champion_version"], "challenger_version": agreement["challenger_version"],
            **lineage}
    metrics = {k: float(v) for k, v in agreement.items()
               if k in ("rows", "pearson", "decision_agreement", "ks_statistic", "mean_shift",
                        "champion_positive_rate", "challenger_positive_rate") and v is not None}
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"shadow-{ds}", tags=tags) as run:
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(report), artifact_path="shadow")
    return str(run.info.run_id)
