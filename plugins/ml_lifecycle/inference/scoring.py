"""Scoring one shard: record batches through the model into a hidden shard file, replaced atomically.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import ScoringShard, ShardResult
from ml_lifecycle.inference.model import load_model
from ml_lifecycle.inference.plan import shard_dir
from ml_lifecycle.lake import VALIDATED_FILE, Lake, shard_file
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def _batches(source: Path, start: int, stop: int, batch_rows: int, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Record batches of rows ``[start, stop)``, reading only the row groups that hold them."""
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(source)
    offset = 0
    for group in range(reader.metadata.num_row_groups):
        rows = reader.metadata.row_group(group).num_rows
        if offset + rows <= start or offset >= stop:
            offset += rows
            continue
        position = offset
        for batch in reader.iter_batches(batch_size=batch_rows, row_groups=[group], columns=columns):
            lo, hi = max(start - position, 0), min(stop - position, batch.num_rows)
            position += batch.num_rows
            if hi > lo:
                yield batch.slice(lo, hi - lo)
            if position >= stop:
                return
        offset += rows


def _scored_batches(
    spec: PipelineSpec, source: Path, model: Any, start: int, stop: int
) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """(id and event-date columns, scores) per record batch, predicted with at most ``scoring.threads`` threads."""
    from threadpoolctl import threadpool_limits

    from ml_lifecycle.training import model_input

    columns = [spec.id_column, spec.event_date_column, *spec.feature_columns]
    with threadpool_limits(limits=spec.scoring.threads):
        for batch in _batches(source, start, stop, spec.scoring.batch_rows, columns):
            frame = model_input(spec, batch.select(spec.feature_columns).to_pandas())
            yield batch.select([spec.id_column, spec.event_date_column]), model.predict_proba(frame)[:, 1]


def _prediction_table(spec: PipelineSpec, keys: pa.RecordBatch, scores: np.ndarray, provenance: Mapping[str, Any]) -> pa.Table:
    """The scored rows with the model that scored them (``provenance``: model_name, model_version, model_run_id, scored_at)."""
    import pyarrow as pa

    n = len(scores)
    return pa.table(
        {
            spec.id_column: keys.column(0).cast(pa.string()),
            spec.event_date_column: keys.column(1).cast(pa.string()),
            "score": pa.array(scores, pa.float64()),
            "decision": pa.array(scores >= spec.decision_threshold),
            "model_name": pa.array([provenance["model_name"]] * n, pa.string()),
            "model_version": pa.array([provenance["model_version"]] * n, pa.string()),
            "model_run_id": pa.array([provenance["model_run_id"]] * n, pa.string()),
            "scored_at": pa.array([datetime.fromisoformat(provenance["scored_at"])] * n, pa.timestamp("us", tz="UTC")),
        },
        schema=prediction_schema(spec),
    )


def score_shard(
    spec: PipelineSpec, lake: Lake, shard: ScoringShard, target: TrackingTarget, *, model: Any = None
) -> ShardResult:
    """Score one shard into its hidden shard file (replacing an earlier attempt's); returns its counts."""
    import pyarrow.parquet as pq

    ds = shard["ds"]
    source = lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE
    current = lake.partition_metadata("validated", spec.name, ds).get("data_version")
    if current != shard["input_data_version"]:
        raise RuntimeError(f"validated ds={ds} changed since the plan ({shard['input_data_version']} -> {current}); "
                           "re-run plan_scoring")
    model = model if model is not None else load_model(spec, target, shard["model_version"])
    folder = shard_dir(lake, spec, ds, shard["run_key"])
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / shard_file(shard["index"])
    tmp = folder / f".{final.name}.{uuid.uuid4().hex}.tmp"
    rows = positives = 0
    try:
        with pq.ParquetWriter(tmp, prediction_schema(spec)) as writer:
            for keys, scores in _scored_batches(spec, source, model, shard["row_start"], shard["row_stop"]):
                table = _prediction_table(spec, keys, scores, shard)
                writer.write_table(table)
                rows += len(scores)
                positives += int((scores >= spec.decision_threshold).sum())
        os.replace(tmp, final)
        lake.commit_file(final)  # on object storage the publish task may run on another machine
    finally:
        tmp.unlink(missing_ok=True)
    expected = shard["row_stop"] - shard["row_start"]
    if rows != expected:
        raise RuntimeError(f"shard {shard['index']} of ds={ds} scored {rows} rows, planned {expected}")
    return {"index": shard["index"], "rows": rows, "positives": positives, "path": str(final)}


def prediction_schema(spec: PipelineSpec) -> Any:
    import pyarrow as pa

    return pa.schema([
        (spec.id_column, pa.string()),
        (spec.event_date_column, pa.string()),
        ("score", pa.float64()),
        ("decision", pa.bool_()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("model_run_id", pa.string()),
        ("scored_at", pa.timestamp("us", tz="UTC")),
    ])
