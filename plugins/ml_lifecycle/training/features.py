"""What the model sees: the serving frame of the spec's features and the scikit-learn Pipeline around it.

The preprocessing lives inside the logged Pipeline, so what is served is exactly what was evaluated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import storage_options_for
from ml_lifecycle.spec import PipelineSpec

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

LABEL = "label"


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


def smoke_sample(spec: PipelineSpec, holdout_path: str, rows: int = 50) -> pd.DataFrame:
    """A few holdout rows in serving shape, for the registry load-and-predict check."""
    import pandas as pd

    return model_input(spec, pd.read_parquet(holdout_path, storage_options=storage_options_for(holdout_path)).head(rows))
