"""Training windows are point-in-time correct; every model family fits and serves on the same input frame."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_lifecycle.exceptions import InsufficientTrainingData
from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.training import LABEL, assemble_window, build_pipeline, model_input
from support import validated_lake

START = date(2024, 1, 1)
DAYS = 10
DELAY = 3
CORRUPT_DAY = 4


def ds_of(day_number: int) -> str:
    return (START + timedelta(days=day_number - 1)).isoformat()


def with_changes(spec: PipelineSpec, *, training: dict[str, Any] | None = None,
                 model: dict[str, Any] | None = None) -> PipelineSpec:
    update: dict[str, Any] = {}
    if training:
        update["training"] = spec.training.model_copy(update=training)
    if model:
        update["model"] = spec.model.model_copy(update=model)
    return spec.model_copy(update=update)


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def lake(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """10 simulated days, labels 3 days late, day 4 broken (quarantined): simulate -> ingest -> validate."""
    # validated_lake raises if any day but the corrupt one is rejected
    lake, _ = validated_lake(spec, tmp_path_factory.mktemp("lake"), start=START, days=DAYS,
                             label_delay_days=DELAY, corrupt_days=frozenset({CORRUPT_DAY}), seed=11)
    assert lake.partitions("validated", spec.name) == [ds_of(n) for n in range(1, DAYS + 1) if n != CORRUPT_DAY]
    return lake


def arrived_labels(spec: PipelineSpec, lake: Lake) -> pd.DataFrame:
    return pd.concat(
        [pd.read_parquet(lake.partition_dir("labels", spec.name, d) / "labels.parquet")
         for d in lake.partitions("labels", spec.name)],
        ignore_index=True,
    )


def read_window(window: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(window["train_path"]), pd.read_parquet(window["holdout_path"])


def copy_of(lake: Lake, where: Path) -> Lake:
    """A private copy of the module's lake, for a test that publishes or changes partitions."""
    shutil.copytree(lake.root, where)
    return Lake(where)


@pytest.fixture(scope="module")
def window(spec: PipelineSpec, lake: Lake) -> dict[str, Any]:
    return assemble_window(spec, lake, ds_of(DAYS))


@pytest.fixture(scope="module")
def frames(window: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_window(window)


# ---- point-in-time correctness -----------------------------------------------------------------


def test_window_uses_only_days_whose_labels_have_arrived(
    spec: PipelineSpec, window: dict[str, Any], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    # As of day 10, labels of days 1..7 have arrived; day 4 was quarantined.
    expected_days = [ds_of(n) for n in range(1, DAYS - DELAY + 1) if n != CORRUPT_DAY]
    assert window["partitions"] == expected_days
    both = pd.concat(frames)
    assert sorted(both[spec.event_date_column].unique()) == expected_days
    assert both[spec.id_column].is_unique
    assert window["train_rows"] + window["holdout_rows"] == len(both)


def test_labels_that_arrive_after_as_of_are_not_used(spec: PipelineSpec, lake: Lake) -> None:
    as_of = ds_of(8)
    window = assemble_window(spec, lake, as_of)
    both = pd.concat(read_window(window))

    assert (both[spec.event_date_column] <= as_of).all()
    # Day 6 and 7 have validated features by day 8, but their labels only arrive on days 9 and 10.
    assert not both[spec.event_date_column].isin([ds_of(6), ds_of(7)]).any()

    labels = arrived_labels(spec, lake)
    in_time = labels[labels["label_arrived_ds"] <= as_of]
    assert set(both[spec.id_column]) == set(in_time[spec.id_column]) - set(
        in_time.loc[in_time[spec.event_date_column] == ds_of(CORRUPT_DAY), spec.id_column]
    )
    truth = in_time.set_index(spec.id_column)[spec.target.column].eq(spec.target.positive_class).astype("int64")
    assert (both.set_index(spec.id_column)[LABEL] == truth.loc[both[spec.id_column]]).all()


def test_a_label_correction_counts_only_once_it_has_arrived(spec: PipelineSpec, lake: Lake, tmp_path: Path) -> None:
    copy = copy_of(lake, tmp_path / "lake")
    # On day 9 the source re-sends day 1's labels, every one of them flipped.
    arrival = ds_of(9)
    existing = pd.read_parquet(copy.partition_dir("labels", spec.name, arrival) / "labels.parquet")
    day1 = pd.read_parquet(copy.partition_dir("labels", spec.name, ds_of(1 + DELAY)) / "labels.parquet")
    flipped = day1.assign(**{spec.target.column: day1[spec.target.column].map({"Yes": "No", "No": "Yes"}),
                             "label_arrived_ds": arrival})

    def write(staging: Path) -> dict[str, Any]:
        pd.concat([existing, flipped], ignore_index=True).to_parquet(staging / "labels.parquet", index=False)
        return {"rows": len(existing) + len(flipped)}

    copy.publish_partition("labels", spec.name, arrival, write)
    truth = day1.set_index(spec.id_column)[spec.target.column].eq("Yes").astype("int64")

    def day1_labels(as_of: str) -> pd.Series:
        both = pd.concat(read_window(assemble_window(spec, copy, as_of)))
        rows = both[both[spec.event_date_column] == ds_of(1)].set_index(spec.id_column)
        return rows[LABEL]

    before = day1_labels(ds_of(8))
    after = day1_labels(ds_of(9))
    assert (before == truth.loc[before.index]).all()
    assert (after == 1 - truth.loc[after.index]).all()


def test_holdout_is_the_most_recent_days_strictly_after_train(
    spec: PipelineSpec, window: dict[str, Any], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, holdout = frames
    days = window["partitions"]
    holdout_days = max(1, round(len(days) * spec.training.holdout_fraction))
    assert sorted(holdout[spec.event_date_column].unique()) == days[-holdout_days:]
    assert sorted(train[spec.event_date_column].unique()) == days[:-holdout_days]
    assert train[spec.event_date_column].max() < holdout[spec.event_date_column].min() == window["holdout_from"]
    assert set(train[spec.id_column]).isdisjoint(holdout[spec.id_column])
    assert len(train) == window["train_rows"] >= spec.training.min_rows
    assert len(holdout) == window["holdout_rows"]
    assert set(train[LABEL].unique()) == set(holdout[LABEL].unique()) == {0, 1}


def test_window_days_limit_how_far_back_features_are_read(spec: PipelineSpec, lake: Lake, tmp_path: Path) -> None:
    narrow = with_changes(spec, training={"window_days": 6, "min_rows": 100})
    # Days 5..10 are in the window; labels have arrived up to day 7.
    window = assemble_window(narrow, copy_of(lake, tmp_path / "lake"), ds_of(DAYS))
    assert window["partitions"] == [ds_of(5), ds_of(6), ds_of(7)]


def test_window_is_published_with_data_versions(spec: PipelineSpec, lake: Lake, window: dict[str, Any]) -> None:
    folder = lake.partition_dir("training", spec.name, ds_of(DAYS))
    assert lake.partitions("training", spec.name)
    assert Path(window["train_path"]).parent == folder == Path(window["holdout_path"]).parent
    meta = lake.partition_metadata("training", spec.name, ds_of(DAYS))
    assert meta["train_rows"] == window["train_rows"] and meta["holdout_rows"] == window["holdout_rows"]
    assert sorted(window["data_versions"]) == window["partitions"]
    for ds, version in window["data_versions"].items():
        assert version == lake.partition_metadata("raw", spec.name, ds)["current"]["data_version"]
        assert version == lake.partition_metadata("validated", spec.name, ds)["data_version"]
    labels = pd.concat(read_window(window))[LABEL]
    assert window["positive_rate"] == round(float(labels.mean()), 4)


def test_same_as_of_gives_the_same_window(spec: PipelineSpec, lake: Lake) -> None:
    first = [f.copy() for f in read_window(assemble_window(spec, lake, ds_of(9)))]
    second = read_window(assemble_window(spec, lake, ds_of(9)))
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)


# ---- not enough data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of_day", "changes", "message"),
    [
        (3, {}, r"labels \(0\)"),  # nothing has arrived yet
        (4, {}, r"only 1 day"),  # day 1's labels only: nothing to hold out
        (DAYS, {"min_rows": 5000}, r"labelled training rows up to 2024-01-10; training.min_rows is 5000"),
        (DAYS, {"window_days": 2}, r"only 0 day"),  # days 9-10 have no labels yet
    ],
)
def test_insufficient_training_data_is_refused_clearly(
    spec: PipelineSpec, lake: Lake, as_of_day: int, changes: dict[str, Any], message: str
) -> None:
    tight = with_changes(spec, training=changes) if changes else spec
    before = lake.partition_dir("training", spec.name, ds_of(as_of_day))
    existed = lake.is_complete(before)
    with pytest.raises(InsufficientTrainingData, match=message) as info:
        assemble_window(tight, lake, ds_of(as_of_day))
    assert spec.name in str(info.value)
    if not existed:
        assert not before.exists()  # nothing is published for a refused window


def test_too_few_rows_names_the_count(spec: PipelineSpec, lake: Lake, window: dict[str, Any]) -> None:
    tight = with_changes(spec, training={"min_rows": window["train_rows"] + 1})
    with pytest.raises(InsufficientTrainingData, match=f"{window['train_rows']} labelled training rows"):
        assemble_window(tight, lake, ds_of(DAYS))


# ---- the model ---------------------------------------------------------------------------------

FAMILIES = {
    "hist_gradient_boosting": None,  # the spec's own parameters
    "logistic_regression": {},
    "random_forest": {"n_estimators": 60, "min_samples_leaf": 5},
}


def family_spec(spec: PipelineSpec, family: str) -> PipelineSpec:
    params = FAMILIES[family]
    return with_changes(spec, model={"family": family, **({"params": params} if params is not None else {})})


def test_model_input_has_spec_columns_and_plain_dtypes(spec: PipelineSpec, frames: tuple[pd.DataFrame, ...]) -> None:
    train = frames[0].head(20).copy()
    train.loc[0, "contract"] = pd.NA
    train.loc[1, "total_charges"] = np.nan
    x = model_input(spec, train)
    assert list(x.columns) == spec.feature_columns  # no id, date or label
    for column in [*spec.features.numeric, *spec.features.binary]:
        assert x[column].dtype == np.float64
    for column in spec.features.categorical:
        assert x[column].dtype == object
    assert x.loc[0, "contract"] is not pd.NA and np.isnan(x.loc[0, "contract"])
    assert np.isnan(x.loc[1, "total_charges"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_fits_and_predicts_probabilities(
    spec: PipelineSpec, frames: tuple[pd.DataFrame, pd.DataFrame], family: str
) -> None:
    from sklearn.metrics import roc_auc_score

    fspec = family_spec(spec, family)
    train, holdout = (f.copy() for f in frames)
    train.loc[train.index[:15], "total_charges"] = np.nan
    pipeline = build_pipeline(fspec)
    assert pipeline.named_steps["model"].get_params()["random_state"] == spec.model.random_seed
    pipeline.fit(model_input(fspec, train), train[LABEL])

    clean = pipeline.predict_proba(model_input(fspec, holdout))
    assert clean.shape == (len(holdout), 2)
    assert roc_auc_score(holdout[LABEL], clean[:, 1]) > 0.75  # it learned something real

    odd = holdout.head(30).copy()
    odd.loc[odd.index[:10], "total_charges"] = np.nan
    odd.loc[odd.index[10:20], "contract"] = "Quarterly"  # never seen in training
    odd.loc[odd.index[20:25], "payment_method"] = pd.NA
    proba = pipeline.predict_proba(model_input(fspec, odd))
    assert proba.shape == (30, 2)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_only_logistic_regression_scales_numbers(spec: PipelineSpec) -> None:
    def numeric_steps(family: str) -> list[str]:
        transformer = dict((n, t) for n, t, _ in build_pipeline(family_spec(spec, family))[0].transformers)
        return list(transformer["numeric"].named_steps)

    assert numeric_steps("logistic_regression") == ["simpleimputer", "standardscaler"]
    assert numeric_steps("hist_gradient_boosting") == ["simpleimputer"]


@pytest.mark.parametrize("family", ["hist_gradient_boosting", "random_forest"])
def test_same_window_and_seed_give_identical_scores(
    spec: PipelineSpec, frames: tuple[pd.DataFrame, pd.DataFrame], family: str
) -> None:
    fspec = family_spec(spec, family)
    train, holdout = frames
    scores = []
    for _ in range(2):
        pipeline = build_pipeline(fspec).fit(model_input(fspec, train), train[LABEL])
        scores.append(pipeline.predict_proba(model_input(fspec, holdout)))
    np.testing.assert_array_equal(scores[0], scores[1])
