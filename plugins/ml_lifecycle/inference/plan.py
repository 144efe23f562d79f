"""The scoring plan: the model, the schema check and the shards a partition is cut into.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from ml_lifecycle.contracts import ScoringShard
from ml_lifecycle.inference.model import check_schema, resolve_model
from ml_lifecycle.lake import SHARDS_DIR, VALIDATED_FILE, Lake, as_ds
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def run_key_of(run_id: str) -> str:
    """A folder name for one Airflow run (run ids hold ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.=-]", "_", run_id)[:200] or "run"


def shard_dir(lake: Lake, spec: PipelineSpec, ds: str, run_key: str) -> Path:
    return lake.zone_dir("predictions", spec.name) / SHARDS_DIR / f"ds={as_ds(ds)}" / run_key


def plan_scoring(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    target: TrackingTarget,
    *,
    moment: datetime | str | None = None,
    model_version: str | int | None = None,
    run_key: str = "local",
    scored_at: datetime | None = None,
) -> list[ScoringShard]:
    """One self-contained dict per shard (what ``score_shard`` is mapped over); at least one shard."""
    import pyarrow.parquet as pq

    ds = as_ds(ds)
    source = lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE
    model = resolve_model(spec, target, moment=moment, model_version=model_version)
    name = spec.model.registered_name
    model_uri = f"models:/{name}/{model['version']}"
    check_schema(spec, source, model_uri)
    metadata = pq.ParquetFile(source).metadata  # opened once, not once per row group
    row_groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    folder = shard_dir(lake, spec, ds, run_key)
    lake.remove_tree(folder)  # a new plan starts from no shards
    common = {
        "ds": ds,
        "model_name": name,
        "model_version": model["version"],
        "model_run_id": model["run_id"],
        "model_source": model["source"],
        "moment": None if moment is None else str(moment),
        "scored_at": (scored_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "run_key": run_key,
        "input_data_version": lake.partition_metadata("validated", spec.name, ds).get("data_version"),
    }
    ranges = shard_ranges(row_groups, spec.scoring.shard_rows)
    return [cast(ScoringShard, {**common, "index": i, "shards": len(ranges), "row_start": a, "row_stop": b})
            for i, (a, b) in enumerate(ranges)]


def shard_ranges(row_groups: list[int], shard_rows: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``shard_rows``: whole row groups packed together, large ones cut evenly."""
    pieces: list[tuple[int, int]] = []
    offset = 0
    for rows in row_groups:
        parts = max(1, -(-rows // shard_rows))
        bounds = [offset + rows * k // parts for k in range(parts + 1)]
        pieces.extend(zip(bounds, bounds[1:], strict=False))
        offset += rows
    merged: list[tuple[int, int]] = []
    for start, stop in pieces:
        if merged and stop - merged[-1][0] <= shard_rows:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged or [(0, 0)]
