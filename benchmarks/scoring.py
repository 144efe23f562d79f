"""Batch scoring throughput and memory: our scoring path against a no-framework floor, at 1M and 5M rows.

    uv run python benchmarks/scoring.py [--sizes 1000000 5000000]

Setup (not timed): a temporary lake and SQLite MLflow store; 6 simulated days of the churn table
(wa_churn), ingested and validated; one churn model trained and promoted to ``champion``; then, per size,
a validated partition of wa_churn rows resampled with new ids (1M-row Parquet row groups, as
validation writes them).

Each measurement runs in a fresh child process (its own peak RSS, ``ru_maxrss``); imports happen before
the clock starts:
- ours: ``inference.score_partition`` (what the operators do: model resolved and loaded from the registry,
  schema guard, shards of ``scoring.shard_rows``, record batches, ``scoring.threads`` threads, atomic publish);
- ref: the floor: pyarrow record batches -> the same sklearn Pipeline's predict_proba -> pyarrow writer,
  with the libraries' default thread count.
The last line is the summary: ``scoring: ours=... ref=... ratio=... peak_rss_mb=... rss_growth=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

DS = "2026-02-01"


def _env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir}/mlflow.db",
        "ML_LIFECYCLE_MLFLOW_ARTIFACTS": (workdir / "artifacts").as_uri(),
        "ML_LIFECYCLE_LAKE_ROOT": str(workdir / "lake"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PYTHONWARNINGS": "ignore",
    }


# ---- setup -----------------------------------------------------------------------------------------
def setup(workdir: Path) -> None:
    os.environ.update(_env(workdir))
    import logging

    logging.disable(logging.WARNING)
    from ml_lifecycle.ingest import ingest_landing, read_raw_features
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.registry import Verdict, apply_verdict
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.tracking import TrackingTarget
    from ml_lifecycle.training import assemble_window, train_and_register
    from ml_lifecycle.validation import validate_partition
    from ml_lifecycle_dev.simulate import simulate

    spec, lake, target = load_spec("churn"), Lake(workdir / "seed"), TrackingTarget.from_env()
    start = date(2026, 1, 1)
    days = simulate(spec, lake, start=start, days=6, label_delay_days=2, seed=3)
    for day in days:
        ingest_landing(spec, lake, day.ds)
        frame, version = read_raw_features(spec, lake, day.ds)
        validate_partition(spec, lake, day.ds, frame, data_version=version)
    trained = train_and_register(spec, assemble_window(spec, lake, (start + timedelta(days=5)).isoformat()), target, {})
    apply_verdict(spec, target, Verdict("PROMOTE", ["benchmark"], trained["version"], None), actor="bench", lineage={})


def make_partition(workdir: Path, rows: int) -> Path:
    """A validated partition of ``rows`` wa_churn rows resampled with new ids, written in 1M-row groups."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec

    spec = load_spec("churn")
    seed_lake = Lake(workdir / "seed")
    base = pd.concat([pd.read_parquet(seed_lake.require_partition("validated", "churn", d) / "data.parquet")
                      for d in seed_lake.partitions("validated", "churn")], ignore_index=True)
    lake = Lake(workdir / f"lake-{rows}")
    rng = np.random.default_rng(rows)

    def write(folder: Path) -> dict[str, Any]:
        schema = pa.Schema.from_pandas(base, preserve_index=False)
        with pq.ParquetWriter(folder / "data.parquet", schema) as writer:
            for offset in range(0, rows, 1_048_576):
                n = min(1_048_576, rows - offset)
                chunk = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
                chunk[spec.id_column] = pd.array([f"B{offset + i}" for i in range(n)], dtype="string")
                chunk[spec.event_date_column] = pd.array([DS] * n, dtype="string")
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
        return {"rows": rows, "data_version": f"benchmark-{rows}"}

    lake.publish_partition("validated", "churn", DS, write)
    return lake.root


# ---- the measured children --------------------------------------------------------------------------
def child_ours(lake_root: str) -> dict[str, Any]:
    import logging

    logging.disable(logging.WARNING)
    import mlflow  # noqa: F401  (imports are not what we measure)
    import pyarrow.parquet  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import threadpoolctl  # noqa: F401

    from ml_lifecycle.inference import score_partition
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.tracking import TrackingTarget

    spec, lake, target = load_spec("churn"), Lake(lake_root), TrackingTarget.from_env()
    started = time.perf_counter()
    result = score_partition(spec, lake, DS, target)
    seconds = time.perf_counter() - started
    return {"rows": result["rows"], "seconds": seconds, "shards": result["shards"],
            "workers": result.get("workers", 0), "worker_rss_mb": result.get("worker_peak_rss_mb", 0.0)}


def child_ref(lake_root: str) -> dict[str, Any]:
    import logging

    logging.disable(logging.WARNING)
    import mlflow
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ml_lifecycle.spec import load_spec

    spec = load_spec("churn")
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    model = mlflow.sklearn.load_model(f"models:/{spec.model.registered_name}@champion")
    source = Path(lake_root) / "validated" / "churn" / f"ds={DS}" / "data.parquet"
    out = Path(lake_root) / "floor.parquet"
    columns = [spec.id_column, *spec.feature_columns]
    numeric = [*spec.features.numeric, *spec.features.binary]
    started = time.perf_counter()
    rows = 0
    writer = None
    for batch in pq.ParquetFile(source).iter_batches(batch_size=100_000, columns=columns):
        frame = batch.to_pandas()
        features = pd.DataFrame({**{c: frame[c].astype("float64") for c in numeric},
                                 **{c: frame[c].astype(object).where(frame[c].notna(), np.nan)
                                    for c in spec.features.categorical}})
        scores = model.predict_proba(features)[:, 1]
        table = pa.table({spec.id_column: batch.column(0), "score": scores})
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        rows += len(scores)
    if writer is not None:
        writer.close()
    return {"rows": rows, "seconds": time.perf_counter() - started}


def measure(kind: str, lake_root: Path, workdir: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its peak RSS is the child's own ru_maxrss."""
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(lake_root)], env=_env(workdir),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = result["rows"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000_000, 5_000_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--child", nargs=2, metavar=("KIND", "LAKE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, lake_root = args.child
        result = child_ours(lake_root) if kind == "ours" else child_ref(lake_root)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Worker processes (ours scores shards in single-thread workers) count too: the largest worker's
        # own peak (reported by the workers) times their number, plus this process's peak, bounds what
        # was resident at once.
        workers = result.get("workers", 0)
        result["peak_rss_mb"] = own + result.get("worker_rss_mb", 0.0) * workers
        result["own_rss_mb"] = own
        print(json.dumps(result))
        return

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as tmp:
        workdir = Path(tmp)
        setup(workdir)
        print(f"setup: trained and promoted a churn model ({time.perf_counter() - started:.1f}s)", flush=True)
        figures: dict[tuple[str, int], dict[str, Any]] = {}
        for rows in args.sizes:
            lake_root = make_partition(workdir, rows)
            for kind in ("ref", "ours"):
                figures[kind, rows] = r = measure(kind, lake_root, workdir)
                print(f"{kind:4s} {rows:>9,d} rows: {r['rows_per_s']:>9,.0f} rows/s  {r['seconds']:6.1f}s  "
                      f"peak RSS {r['peak_rss_mb']:6.0f} MB" + (f"  shards {r['shards']}, {r['workers']} workers "
                                                                 f"(own {r['own_rss_mb']:.0f} MB + {r['workers']} x "
                                                                 f"{r['worker_rss_mb']:.0f} MB)" if "shards" in r else ""),
                      flush=True)
            shutil.rmtree(lake_root, ignore_errors=True)
        small, large = args.sizes
        ours, ref = figures["ours", large], figures["ref", large]
        print(f"ours/ref at {small:,}: {figures['ours', small]['rows_per_s'] / figures['ref', small]['rows_per_s']:.2f}; "
              f"ref RSS growth {ref['peak_rss_mb'] / figures['ref', small]['peak_rss_mb']:.2f}; "
              f"total {time.perf_counter() - started:.0f}s")
        print(f"scoring: ours={ours['rows_per_s']:.0f} ref={ref['rows_per_s']:.0f} "
              f"ratio={ours['rows_per_s'] / ref['rows_per_s']:.2f} peak_rss_mb={ours['peak_rss_mb']:.0f} "
              f"rss_growth={ours['peak_rss_mb'] / figures['ours', small]['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
