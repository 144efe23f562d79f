"""Which model scores a partition, and whether the partition can feed it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ml_lifecycle.contracts import ResolvedModel
from ml_lifecycle.exceptions import NoChampion, ScoringSchemaMismatch
from ml_lifecycle.registry import champion_at, champion_version
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def resolve_model(
    spec: PipelineSpec,
    target: TrackingTarget,
    *,
    moment: datetime | str | None = None,
    model_version: str | int | None = None,
) -> ResolvedModel:
    """The version to score with: pinned, else the champion at ``moment``, else the current champion.

    ``moment`` is when the run would have run in production (the end of a daily run's data interval): a
    backfill of a past date scores with the model that was serving then. A moment before the first
    recorded promotion (nothing was serving, or the registry's clock is ahead of a simulated calendar)
    falls back to the current champion; ``source`` says which rule applied.
    """
    from mlflow.exceptions import MlflowException

    client = target.activate()
    name = spec.model.registered_name
    version, source = None, "current_champion"
    if model_version not in (None, ""):
        version, source = str(model_version), "pinned"
    elif moment is not None:
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


def load_model(spec: PipelineSpec, target: TrackingTarget, version: str) -> Any:
    import mlflow

    target.activate()
    return mlflow.sklearn.load_model(f"models:/{spec.model.registered_name}/{version}")
