"""Training: fit the spec's Pipeline on the window's train split, log it to MLflow and register a version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ml_lifecycle.contracts import TrainedModel, TrainingWindow
from ml_lifecycle.lake import storage_options_for
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training.features import LABEL, build_pipeline, model_input
from ml_lifecycle.training.provenance import library_versions, serving_requirements
from ml_lifecycle.training.safety import SKOPS_TRUSTED, check_trusted_types
from ml_lifecycle.training.window import compact_validation

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_ARTIFACT = "reference/reference.parquet"  # on the version's run: drift's reference sample
HOLDOUT_ARTIFACT = "data/holdout.parquet"  # on the version's run: what a rollback re-tests the target on

REFERENCE_MAX_ROWS = 5000


def train_and_register(
    spec: PipelineSpec, window: TrainingWindow, target: TrackingTarget, lineage: dict[str, str]
) -> TrainedModel:
    """Fit on the window's train split, log the Pipeline to MLflow and register a new version.

    ``lineage`` (dag_id, run_id, task try, ...) is written as tags on both the run and the version.
    No alias is set here: the gate (:mod:`ml_lifecycle.registry`) nominates the candidate as ``challenger``.
    """
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    client = target.activate()
    experiment_id = target.experiment_id(spec.name)
    train = pd.read_parquet(window["train_path"], storage_options=storage_options_for(window["train_path"]))
    features = model_input(spec, train)
    pipeline = build_pipeline(spec)

    tags = {
        "pipeline": spec.name,
        "spec_hash": spec.spec_hash,
        "training_as_of": window["as_of"],
        "data_partitions": ",".join(window["partitions"]),
        "data_versions": _compact_versions(window["data_versions"]),
        "train_rows": str(window["train_rows"]),
        "owner": spec.owner,
        **({"validation_summary": compact_validation(window["validation"])} if window.get("validation") else {}),
        **library_versions(),
        **lineage,
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{window['as_of']}", tags=tags) as run:
        pipeline.fit(features, train[LABEL])
        check_trusted_types(pipeline)
        train_scores = pipeline.predict_proba(features)[:, 1]
        mlflow.log_params({"family": spec.model.family, "random_seed": spec.model.random_seed,
                           "window_days": spec.training.window_days, **spec.model.params})
        mlflow.log_metrics({"train_rows": float(len(train)), "train_positive_rate": float(train[LABEL].mean())})
        example = features.head(5)
        # The pyfunc serves predict_proba, so the signature describes both class probabilities.
        signature = infer_signature(example, pipeline.predict_proba(example))
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=spec.model.registered_name,
            pyfunc_predict_fn="predict_proba",
            skops_trusted_types=SKOPS_TRUSTED,
            # Explicit, so MLflow neither re-loads the model in a subprocess to guess them (~6 s) nor
            # exports the whole project lock (Airflow, GX, Evidently) as the model's requirements.
            pip_requirements=serving_requirements(),
        )
        reference = train[[spec.id_column, *spec.feature_columns]].assign(score=train_scores)
        if len(reference) > REFERENCE_MAX_ROWS:
            reference = reference.sample(REFERENCE_MAX_ROWS, random_state=spec.model.random_seed)
        _log_frame(reference, REFERENCE_ARTIFACT)
        holdout = pd.read_parquet(window["holdout_path"], storage_options=storage_options_for(window["holdout_path"]))
        _log_frame(holdout, HOLDOUT_ARTIFACT)
        if window.get("validation"):
            mlflow.log_dict(dict(window["validation"]), "lineage/validation_summary.json")

    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(spec.model.registered_name, version, key, value)
    client.set_model_version_tag(spec.model.registered_name, version, "run_id", run.info.run_id)
    return {
        "model_name": spec.model.registered_name,
        "version": version,
        "run_id": run.info.run_id,
        "experiment_id": experiment_id,
        "model_uri": f"models:/{spec.model.registered_name}/{version}",
        "train_rows": window["train_rows"],
    }


def _log_frame(frame: pd.DataFrame, artifact_path: str) -> None:
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(artifact_path).name
        frame.to_parquet(local, index=False)
        mlflow.log_artifact(str(local), artifact_path=str(Path(artifact_path).parent))


def _compact_versions(versions: dict[str, str | None]) -> str:
    # MLflow tag values are limited in length: keep 12 hex digits per partition, enough to identify it.
    return ",".join(f"{d}:{(v or 'unknown')[:12]}" for d, v in sorted(versions.items()))
