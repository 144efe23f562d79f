"""Batch inference: score a validated partition with the champion, in record batches, published atomically.

The work is split in three steps so that Airflow can fan a large partition out over workers
(``dags/churn_daily.py``: plan_scoring -> score_shard (mapped) -> publish_predictions), and
:func:`score_partition` runs the same three steps in one process (CLI, tests, benchmark):

1. :func:`plan_scoring` picks the model (a pinned version, else the champion at the run's moment: see
   :func:`resolve_model`), checks the partition's Parquet schema against the model's signature (a
   mismatch raises :class:`ScoringSchemaMismatch` and nothing is written) and cuts the partition into
   shards of at most ``spec.scoring.shard_rows`` rows, aligned to Parquet row groups where possible.
2. :func:`score_shard` streams one shard in record batches of ``spec.scoring.batch_rows`` through the
   model with at most ``spec.scoring.threads`` OpenMP threads, into the hidden file
   ``predictions/<p>/.shards/ds=<ds>/<run-key>/shard-<i>.parquet`` (written under a temporary name and
   renamed, so a retried shard replaces its own file and nothing else).
3. :func:`publish_predictions` assembles the shard files into ``predictions/<p>/ds=<ds>/predictions.parquet``
   through :meth:`Lake.publish_partition` (one shard: hard-linked, no copy; several: streamed into one file,
   so every reader keeps reading one file) and removes the shard folder.

Re-runs: every column but ``scored_at`` depends only on the input partition and the model version, so a
re-run writes the same rows in the same order. ``scored_at`` is the wall-clock time at which the run's plan
was made, shared by every shard and every retry of that run; pass ``scored_at`` to make the file
byte-for-byte reproducible.

:func:`shadow_score` scores the same partition with the ``challenger`` (when it differs from the model that
scored the predictions) into ``shadow/<p>/ds=<ds>/``, with agreement statistics against the champion.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import Lake, as_ds, fingerprint_of, write_json
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

PREDICTIONS_FILE = "predictions.parquet"
SHADOW_FILE = "shadow.parquet"
AGREEMENT_FILE = "agreement.json"
SHARDS_DIR = ".shards"


class NoChampion(LookupError):
    """No model version holds the ``champion`` alias yet: there is nothing to score with."""


class NoChallenger(LookupError):
    """No ``challenger`` alias, or it is the model that scored the predictions: nothing to shadow."""


class ScoringSchemaMismatch(ValueError):
    """The validated partition does not have the columns and types the model's signature expects."""

    def __init__(self, model: str, missing: list[str], extra: list[str], mistyped: list[str]) -> None:
        self.missing, self.extra, self.mistyped = missing, extra, mistyped
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"feature columns the model does not take {extra}")
        if mistyped:
            parts.append(f"mistyped columns {mistyped}")
        super().__init__(f"partition does not match the signature of {model}: {'; '.join(parts)}")


# ---- which model -----------------------------------------------------------------------------------
def resolve_model(
    spec: PipelineSpec,
    target: TrackingTarget,
    *,
    moment: datetime | str | None = None,
    model_version: str | int | None = None,
) -> dict[str, str]:
    """The version to score with: pinned, else the champion at ``moment``, else the current champion.

    ``moment`` is when the run would have run in production (the end of a daily run's data interval): a
    backfill of a past date scores with the model that was serving then. A moment before the first
    recorded promotion (nothing was serving, or the registry's clock is ahead of a simulated calendar)
    falls back to the current champion; ``source`` says which rule applied.
    """
    from mlflow.exceptions import MlflowException

    from ml_lifecycle.evaluation import champion_version

    client = target.activate()
    name = spec.model.registered_name
    version, source = None, "current_champion"
    if model_version not in (None, ""):
        version, source = str(model_version), "pinned"
    elif moment is not None:
        from ml_lifecycle.champion_history import champion_at

        at = champion_at(spec, target, moment)
        if at is not None:
            version, source = at, "champion_at"
    if version is None:
        current = champion_version(spec, target)
        if current is None:
            raise NoChampion(f"{name} has no 'champion' alias yet; train and promote a model first")
        return {**current, "source": source}
    try:
        mv = client.get_model_version(name, version)
    except MlflowException as exc:
        raise LookupError(f"{name} has no version {version}: {exc}") from exc
    return {"version": str(mv.version), "run_id": str(mv.run_id), "source": source}


def check_schema(spec: PipelineSpec, source: Path, model_uri: str) -> list[str]:
    """The model's input columns; raises :class:`ScoringSchemaMismatch` if the partition cannot feed them."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from mlflow.models import get_model_info

    signature = get_model_info(model_uri).signature
    schema = pq.read_schema(source)
    if signature is None or signature.inputs is None or not signature.inputs.has_input_names():
        return list(spec.feature_columns)  # nothing to check against: trust the spec
    inputs = {str(col.name): str(col.type.name) for col in signature.inputs.inputs}
    present = {name: schema.field(name).type for name in schema.names}
    features = set(spec.feature_columns)
    missing = sorted(n for n in inputs if n not in present or n not in features)
    extra = sorted(n for n in features if n in present and n not in inputs)

    def compatible(expected: str, actual: pa.DataType) -> bool:
        if pa.types.is_dictionary(actual):
            actual = actual.value_type
        if expected in ("double", "float"):
            return bool(pa.types.is_floating(actual) or pa.types.is_integer(actual) or pa.types.is_boolean(actual))
        if expected in ("long", "integer"):
            return bool(pa.types.is_integer(actual) or pa.types.is_boolean(actual))
        if expected == "string":
            return bool(pa.types.is_string(actual) or pa.types.is_large_string(actual))
        if expected == "boolean":
            return bool(pa.types.is_boolean(actual))
        return True

    mistyped = sorted(
        f"{n} ({present[n]}, model expects {t})" for n, t in inputs.items()
        if n in present and n in features and not compatible(t, present[n])
    )
    if missing or extra or mistyped:
        raise ScoringSchemaMismatch(model_uri, missing, extra, mistyped)
    return list(inputs)


# ---- plan ------------------------------------------------------------------------------------------
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
) -> list[dict[str, Any]]:
    """One self-contained dict per shard (what ``score_shard`` is mapped over); at least one shard."""
    import pyarrow.parquet as pq

    ds = as_ds(ds)
    source = lake.require_partition("validated", spec.name, ds) / "data.parquet"
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
    return [{**common, "index": i, "shards": len(ranges), "row_start": a, "row_stop": b}
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


# ---- score -----------------------------------------------------------------------------------------
def load_model(spec: PipelineSpec, target: TrackingTarget, version: str) -> Any:
    import mlflow

    target.activate()
    return mlflow.sklearn.load_model(f"models:/{spec.model.registered_name}/{version}")


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


def _prediction_table(spec: PipelineSpec, keys: pa.RecordBatch, scores: np.ndarray, shard: dict[str, Any]) -> pa.Table:
    import pyarrow as pa

    n = len(scores)
    return pa.table(
        {
            spec.id_column: keys.column(0).cast(pa.string()),
            spec.event_date_column: keys.column(1).cast(pa.string()),
            "score": pa.array(scores, pa.float64()),
            "decision": pa.array(scores >= spec.decision_threshold),
            "model_name": pa.array([shard["model_name"]] * n, pa.string()),
            "model_version": pa.array([shard["model_version"]] * n, pa.string()),
            "model_run_id": pa.array([shard["model_run_id"]] * n, pa.string()),
            "scored_at": pa.array([datetime.fromisoformat(shard["scored_at"])] * n, pa.timestamp("us", tz="UTC")),
        },
        schema=prediction_schema(spec),
    )


def score_shard(
    spec: PipelineSpec, lake: Lake, shard: dict[str, Any], target: TrackingTarget, *, model: Any = None
) -> dict[str, Any]:
    """Score one shard into its hidden shard file (replacing an earlier attempt's); returns its counts."""
    import pyarrow.parquet as pq

    ds = shard["ds"]
    source = lake.require_partition("validated", spec.name, ds) / "data.parquet"
    current = lake.partition_metadata("validated", spec.name, ds).get("data_version")
    if current != shard["input_data_version"]:
        raise RuntimeError(f"validated ds={ds} changed since the plan ({shard['input_data_version']} -> {current}); "
                           "re-run plan_scoring")
    model = model if model is not None else load_model(spec, target, shard["model_version"])
    folder = shard_dir(lake, spec, ds, shard["run_key"])
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"shard-{shard['index']:05d}.parquet"
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


# ---- publish ---------------------------------------------------------------------------------------
def publish_predictions(
    spec: PipelineSpec, lake: Lake, shards: list[dict[str, Any]], results: list[dict[str, Any]]
) -> dict[str, Any]:
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


def score_partition(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    target: TrackingTarget,
    *,
    moment: datetime | str | None = None,
    model_version: str | int | None = None,
    scored_at: datetime | None = None,
) -> dict[str, Any]:
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
    spec: PipelineSpec, lake: Lake, shards: list[dict[str, Any]], target: TrackingTarget, workers: int
) -> list[dict[str, Any]]:
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


def _score_shard_job(spec: PipelineSpec, lake_root: str, shard: dict[str, Any], target: TrackingTarget) -> dict[str, Any]:
    # A worker keeps its loaded model for the next shard of the same version.
    version = str(shard["model_version"])
    if version not in _worker_models:
        _worker_models[version] = load_model(spec, target, version)
    import resource

    result = score_shard(spec, Lake(lake_root), shard, target, model=_worker_models[version])
    result["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


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


# ---- shadow ----------------------------------------------------------------------------------------
def shadow_score(
    spec: PipelineSpec,
    lake: Lake,
    ds: str,
    target: TrackingTarget,
    *,
    lineage: dict[str, str] | None = None,
    scored_at: datetime | None = None,
) -> dict[str, Any]:
    """Score the partition with the ``challenger`` into ``shadow/``; compare with the published predictions.

    Raises :class:`NoChallenger` when there is no challenger or it is the model that scored the
    predictions. The predictions partition is only read.
    """
    import numpy as np
    import pyarrow.parquet as pq

    ds = as_ds(ds)
    published = lake.require_partition("predictions", spec.name, ds)
    champion_meta = lake.partition_metadata("predictions", spec.name, ds)
    from ml_lifecycle.evaluation import aliased_version

    challenger = aliased_version(spec, target, "challenger")
    if challenger is None or challenger["version"] == str(champion_meta.get("model_version")):
        raise NoChallenger(f"{spec.model.registered_name}: no challenger other than "
                           f"v{champion_meta.get('model_version')} to shadow-score")
    source = lake.require_partition("validated", spec.name, ds) / "data.parquet"
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
    return {**agreement, "shadow_path": str(final / SHADOW_FILE), "monitoring_run_id": run_id}


def agreement_stats(champion: np.ndarray, challenger: np.ndarray, threshold: float) -> dict[str, Any]:
    """Pearson correlation, decision agreement, KS statistic and mean shift (challenger - champion)."""
    import numpy as np
    from scipy.stats import ks_2samp

    n = len(champion)
    if n == 0:
        return {"rows": 0, "pearson": None, "decision_agreement": None, "ks_statistic": None, "mean_shift": None}
    constant = float(np.std(champion)) == 0.0 or float(np.std(challenger)) == 0.0
    return {
        "rows": n,
        "pearson": None if constant else float(np.corrcoef(champion, challenger)[0, 1]),
        "decision_agreement": float(np.mean((champion >= threshold) == (challenger >= threshold))),
        "ks_statistic": float(ks_2samp(champion, challenger).statistic),
        "mean_shift": float(np.mean(challenger) - np.mean(champion)),
        "champion_positive_rate": float(np.mean(champion >= threshold)),
        "challenger_positive_rate": float(np.mean(challenger >= threshold)),
    }


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
