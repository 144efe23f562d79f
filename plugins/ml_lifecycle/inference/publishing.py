"""Publishing a run's shard files as one ``predictions/`` partition, atomically.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ml_lifecycle.contracts import PredictionsResult, ScoringShard, ShardResult
from ml_lifecycle.inference.plan import shard_dir
from ml_lifecycle.inference.scoring import prediction_schema
from ml_lifecycle.lake import PREDICTIONS_FILE, Lake, fingerprint_of
from ml_lifecycle.spec import PipelineSpec


def publish_predictions(
    spec: PipelineSpec, lake: Lake, shards: list[ScoringShard], results: list[ShardResult]
) -> PredictionsResult:
    """Assemble every planned shard's file into ``predictions/<p>/ds=<ds>/`` atomically; drop the shards."""
    import pyarrow.parquet as pq

    shards = sorted(shards, key=lambda s: s["index"])
    by_index = {int(r["index"]): r for r in results}
    first = shards[0]
    ds = first["ds"]
    folder = shard_dir(lake, spec, ds, first["run_key"])

    def scored_file(index: int) -> Path | None:
        if index not in by_index:
            return None
        path = Path(by_index[index]["path"])
        if lake.remote:  # scored elsewhere, perhaps: this machine's copy of the committed shard
            path = lake.fetch_file(folder / path.name)
        return path if path.is_file() else None

    found = {s["index"]: scored_file(s["index"]) for s in shards}
    absent = [index for index, path in found.items() if path is None]
    if absent or len(shards) != first["shards"]:
        raise RuntimeError(f"predictions ds={ds}: shards {absent} of {first['shards']} have no scored file")
    files = [path for path in found.values() if path is not None]
    rows = sum(int(by_index[s["index"]]["rows"]) for s in shards)
    positives = sum(int(by_index[s["index"]]["positives"]) for s in shards)

    def write(staging: Path) -> dict[str, Any]:
        target_file = staging / PREDICTIONS_FILE
        if len(files) == 1:
            try:
                os.link(files[0], target_file)  # the shard file stays until the partition is in place
            except OSError:
                shutil.copyfile(files[0], target_file)
        else:
            with pq.ParquetWriter(target_file, prediction_schema(spec)) as writer:
                for path in files:
                    for batch in pq.ParquetFile(path).iter_batches(batch_size=spec.scoring.batch_rows):
                        writer.write_batch(batch)
        return {
            "rows": rows,
            "positives": positives,
            "model_name": first["model_name"],
            "model_version": first["model_version"],
            "model_run_id": first["model_run_id"],
            "model_source": first["model_source"],
            "moment": first["moment"],
            "scored_at": first["scored_at"],
            "shards": len(files),
            "input_data_version": first["input_data_version"],
        }

    # A re-run that scored the same data with the same model and spec leaves the partition as it was
    # (its scored_at included): the day's predictions are what the first run published.
    inputs = fingerprint_of({"data_version": first["input_data_version"], "model_version": first["model_version"],
                             "model_run_id": first["model_run_id"], "spec_hash": spec.spec_hash})
    final = lake.publish_partition("predictions", spec.name, ds, write, inputs=inputs)
    _remove_shards(lake, spec, ds, first["run_key"])
    return {
        "ds": ds,
        "rows": rows,
        "predicted_positive": positives,
        "model_name": first["model_name"],
        "model_version": first["model_version"],
        "model_run_id": first["model_run_id"],
        "model_source": first["model_source"],
        "shards": len(files),
        "predictions_path": str(final / PREDICTIONS_FILE),
    }


def _remove_shards(lake: Lake, spec: PipelineSpec, ds: str, run_key: str) -> None:
    folder = shard_dir(lake, spec, ds, run_key)
    lake.remove_tree(folder)
    for parent in (folder.parent, folder.parent.parent):  # .shards/ds=<ds>/ and .shards/, when empty
        try:
            parent.rmdir()
        except OSError:
            break
