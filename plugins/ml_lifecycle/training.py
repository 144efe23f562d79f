"""Training: a point-in-time correct window, a scikit-learn Pipeline, an MLflow run and a registered version.

The preprocessing lives inside the logged Pipeline, so what is served is exactly what was evaluated.
"""

from __future__ import annotations

import platform
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import Lake, as_ds, storage_options_for
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

LABEL = "label"
REFERENCE_ARTIFACT = "reference/reference.parquet"
REFERENCE_MAX_ROWS = 5000
# Types skops refuses by default that our own Pipelines contain (checked for every supported family
# with skops.io.get_untrusted_types); anything else in a model still fails loudly at log time.
SKOPS_TRUSTED = [
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
]


class UntrustedModelTypes(TypeError):
    """The model holds types outside the reviewed SKOPS_TRUSTED list: it would not load safely."""


def check_trusted_types(pipeline: Any) -> None:
    """Refuse a model whose skops serialisation needs a type that is not in ``SKOPS_TRUSTED``.

    Loading a skops file only instantiates the types it is told to trust; we trust a short list that was
    reviewed for our model families, and never "whatever the file says". Raised before anything is logged.
    """
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))) - set(SKOPS_TRUSTED))
    if untrusted:
        raise UntrustedModelTypes(
            f"the model contains types that are not in the reviewed trusted list (training.SKOPS_TRUSTED): "
            f"{', '.join(untrusted)}; review them and add them to SKOPS_TRUSTED only if loading them is safe"
        )


class InsufficientTrainingData(ValueError):
    """The window does not hold enough labelled rows (or both classes) to train and judge a model."""


# ---- the window ----------------------------------------------------------------------------------
def assemble_window(spec: PipelineSpec, lake: Lake, as_of: str) -> dict[str, Any]:
    """Join validated features with the labels that had *arrived* by ``as_of``; split by event date.

    Writes ``training/<pipeline>/ds=<as_of>/{train,holdout}.parquet`` and returns their paths with the
    data versions of every partition used.
    """
    import pandas as pd

    as_of = as_ds(as_of)
    first_day = (date.fromisoformat(as_of) - timedelta(days=spec.training.window_days - 1)).isoformat()
    feature_days = [d for d in lake.partitions("validated", spec.name) if first_day <= d <= as_of]
    label_days = [d for d in lake.partitions("labels", spec.name) if d <= as_of]
    if not feature_days or not label_days:
        raise InsufficientTrainingData(
            f"{spec.name}: no validated partitions ({len(feature_days)}) or labels ({len(label_days)}) "
            f"in the window {first_day}..{as_of}"
        )
    features = pd.concat(
        [pd.read_parquet(lake.partition_dir("validated", spec.name, d) / "data.parquet") for d in feature_days],
        ignore_index=True,
    )
    labels = pd.concat(
        [pd.read_parquet(lake.partition_dir("labels", spec.name, d) / "labels.parquet") for d in label_days],
        ignore_index=True,
    ).drop_duplicates(subset=[spec.id_column, spec.event_date_column], keep="last")
    labels[LABEL] = (labels[spec.target.column].astype(str) == str(spec.target.positive_class)).astype("int64")
    joined = features.merge(
        labels[[spec.id_column, spec.event_date_column, LABEL]],
        on=[spec.id_column, spec.event_date_column],
        how="inner",
        validate="one_to_one",
    ).sort_values([spec.event_date_column, spec.id_column], kind="stable", ignore_index=True)

    train, holdout = _split_by_event_date(spec, joined)
    for name, part in (("train", train), ("holdout", holdout)):
        if part[LABEL].nunique() < 2:
            raise InsufficientTrainingData(f"{spec.name}: the {name} split has only one class")
    if len(train) < spec.training.min_rows:
        raise InsufficientTrainingData(
            f"{spec.name}: {len(train)} labelled training rows up to {as_of}; training.min_rows is "
            f"{spec.training.min_rows}"
        )

    metadata = {d: lake.partition_metadata("validated", spec.name, d) for d in feature_days}
    versions = {d: meta.get("data_version") for d, meta in metadata.items()}
    used_feature_days = sorted(joined[spec.event_date_column].unique().tolist())

    def write(staging: Path) -> dict[str, Any]:
        train.to_parquet(staging / "train.parquet", index=False)
        holdout.to_parquet(staging / "holdout.parquet", index=False)
        return {"as_of": as_of, "train_rows": len(train), "holdout_rows": len(holdout)}

    folder = lake.publish_partition("training", spec.name, as_of, write)
    return {
        "as_of": as_of,
        # Lake locations: the files themselves on a local lake, their (immutable) objects on object storage,
        # so that a task on another machine reads the same generation.
        "train_path": lake.location(folder / "train.parquet"),
        "holdout_path": lake.location(folder / "holdout.parquet"),
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "positive_rate": round(float(joined[LABEL].mean()), 4),
        "partitions": used_feature_days,
        "data_versions": {d: versions[d] for d in used_feature_days},
        "validation": validation_summary({d: metadata[d] for d in used_feature_days}),
        "holdout_from": str(holdout[spec.event_date_column].min()),
    }


def validation_summary(metadata: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Compact summary of the validated partitions' ``_SUCCESS`` metadata: rows, warnings, suite."""
    suites = sorted({f"{m.get('suite')}@{str(m.get('suite_sha256') or '')[:12]}" for m in metadata.values()})
    return {
        "partitions": len(metadata),
        "rows": sum(int(m.get("rows") or 0) for m in metadata.values()),
        "warnings": sum(int(m.get("warnings") or 0) for m in metadata.values()),
        "warnings_by_day": {d: int(m["warnings"]) for d, m in sorted(metadata.items()) if m.get("warnings")},
        "suites": suites,
    }


def compact_validation(summary: dict[str, Any]) -> str:
    """The validation summary as one short tag value (MLflow tag values are length-limited)."""
    by_day = ",".join(f"{d}:{w}" for d, w in summary.get("warnings_by_day", {}).items()) or "none"
    return (f"partitions={summary['partitions']} rows={summary['rows']} warnings={summary['warnings']} "
            f"warning_days={by_day} suite={'|'.join(summary['suites'])}")[:4900]


def _split_by_event_date(spec: PipelineSpec, joined: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    # The most recent days form the holdout, so the model is judged on data newer than it learned from.
    days = sorted(joined[spec.event_date_column].unique())
    if len(days) < 2:
        raise InsufficientTrainingData(f"{spec.name}: labelled data covers only {len(days)} day(s); need 2+")
    holdout_days = max(1, round(len(days) * spec.training.holdout_fraction))
    cut = days[-holdout_days]
    is_holdout = joined[spec.event_date_column] >= cut
    return joined[~is_holdout].reset_index(drop=True), joined[is_holdout].reset_index(drop=True)


# ---- the model -----------------------------------------------------------------------------------
def model_input(spec: PipelineSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The exact frame the model is fitted on and served with: features in spec order, plain dtypes."""
    import numpy as np

    columns = {}
    for name in spec.features.numeric:
        columns[name] = frame[name].astype("float64")
    for name in spec.features.binary:
        columns[name] = frame[name].astype("float64")
    for name in spec.features.categorical:
        values = frame[name].astype(object)
        columns[name] = values.where(values.notna(), np.nan)
    import pandas as pd

    return pd.DataFrame(columns, index=frame.index)


def build_pipeline(spec: PipelineSpec) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    scale = spec.model.family == "logistic_regression"
    numeric_steps: list[Any] = [SimpleImputer(strategy="median")]
    if scale:
        numeric_steps.append(StandardScaler())
    preprocess = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric_steps), [*spec.features.numeric, *spec.features.binary]),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                spec.features.categorical,
            ),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("preprocess", preprocess), ("model", _estimator(spec))])


def _estimator(spec: PipelineSpec) -> Any:
    params = dict(spec.model.params)
    seed = spec.model.random_seed
    if spec.model.family == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed, **params)
    if spec.model.family == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(random_state=seed, n_jobs=1, **params)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed, max_iter=params.pop("max_iter", 1000), **params)


# ---- the run -------------------------------------------------------------------------------------
def train_and_register(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, lineage: dict[str, str]
) -> dict[str, Any]:
    """Fit on the window's train split, log the Pipeline to MLflow and register a new version.

    ``lineage`` (dag_id, run_id, task try, ...) is written as tags on both the run and the version.
    The new version gets the ``challenger`` alias; only the gate moves ``champion``.
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
        _log_frame(holdout, "data/holdout.parquet")
        if window.get("validation"):
            mlflow.log_dict(window["validation"], "lineage/validation_summary.json")

    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(spec.model.registered_name, version, key, value)
    client.set_model_version_tag(spec.model.registered_name, version, "run_id", run.info.run_id)
    from ml_lifecycle.registry import set_alias

    set_alias(spec, target, "challenger", version, action="candidate", actor=lineage.get("airflow.run_id", "training"),
              reason=f"new candidate trained as of {window['as_of']}", lineage=lineage)
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


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    libs = {"sklearn": "scikit-learn", "mlflow": "mlflow", "pandas": "pandas", "airflow": "apache-airflow"}
    tags = {f"lib.{short}": version(dist) for short, dist in libs.items()}
    tags["lib.python"] = platform.python_version()
    tags["code_version"] = code_version()
    return tags


def serving_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{dist}=={version(dist)}" for dist in ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "pyarrow")]


def code_version() -> str:
    """The checkout's git commit (``+dirty`` with local changes), else the package version."""
    import subprocess

    from ml_lifecycle import __version__
    from ml_lifecycle.settings import project_root

    try:
        commit = subprocess.run(["git", "-C", str(project_root()), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(project_root()), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"ml-lifecycle {__version__}"
    return f"{commit}{'+dirty' if dirty else ''}"


def smoke_sample(spec: PipelineSpec, holdout_path: str, rows: int = 50) -> pd.DataFrame:
    """A few holdout rows in serving shape, for the registry load-and-predict check."""
    import pandas as pd

    return model_input(spec, pd.read_parquet(holdout_path, storage_options=storage_options_for(holdout_path)).head(rows))
