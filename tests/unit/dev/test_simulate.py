"""The demo's simulator: wa_churn replayed as daily landing drops, labels late, drift and a broken day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ml_lifecycle_dev.simulate as simulate_module
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle_dev.simulate import SimulatedDay, load_source_table, simulate

START = date(2024, 1, 1)
DAYS = 10
DELAY = 3
DRIFT_DAY = 7
CORRUPT_DAY = 4
SEED = 7


def ds_of(day_number: int) -> str:
    return (START + timedelta(days=day_number - 1)).isoformat()


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def source(spec: PipelineSpec) -> pd.DataFrame:
    return load_source_table(spec).set_index(spec.id_column)


def read_csv(spec: PipelineSpec, path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={spec.id_column: str, spec.event_date_column: str})


def features_of(spec: PipelineSpec, lake: Lake, day_number: int) -> pd.DataFrame:
    return read_csv(spec, lake.landing_dir(spec.name, ds_of(day_number)) / spec.source.features_file)


def labels_of(spec: PipelineSpec, lake: Lake, day_number: int) -> pd.DataFrame | None:
    path = lake.landing_dir(spec.name, ds_of(day_number)) / spec.source.labels_file
    return read_csv(spec, path) if path.is_file() else None


class Run:
    def __init__(self, lake: Lake, days: list[SimulatedDay]) -> None:
        self.lake = lake
        self.days = days


@pytest.fixture(scope="module")
def clean(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Run:
    lake = Lake(tmp_path_factory.mktemp("clean"))
    return Run(lake, simulate(spec, lake, start=START, days=DAYS, label_delay_days=DELAY, seed=SEED))


@pytest.fixture(scope="module")
def eventful(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Same seed as ``clean``, with drift from day 7 on and a broken extract on day 4."""
    lake = Lake(tmp_path_factory.mktemp("eventful"))
    days = simulate(
        spec, lake, start=START, days=DAYS, label_delay_days=DELAY, drift_start_day=DRIFT_DAY,
        corrupt_days=frozenset({CORRUPT_DAY}), seed=SEED,
    )
    return Run(lake, days)


# ---- coverage of the table --------------------------------------------------------------------


def test_one_folder_per_day_with_consecutive_dates(spec: PipelineSpec, clean: Run) -> None:
    assert [d.ds for d in clean.days] == [ds_of(n) for n in range(1, DAYS + 1)]
    landed = sorted(p.name for p in (clean.lake.root / "landing" / spec.name).iterdir())
    assert landed == [ds_of(n) for n in range(1, DAYS + 1)]


def test_every_row_appears_exactly_once(spec: PipelineSpec, clean: Run, source: pd.DataFrame) -> None:
    frames = [features_of(spec, clean.lake, n) for n in range(1, DAYS + 1)]
    ids = pd.concat([f[spec.id_column] for f in frames], ignore_index=True)
    assert len(ids) == len(source) == 7043
    assert ids.is_unique
    assert set(ids) == set(source.index)
    sizes = [len(f) for f in frames]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == [d.feature_rows for d in clean.days]
    for n, frame in enumerate(frames, start=1):
        assert (frame[spec.event_date_column] == ds_of(n)).all()


def test_feature_files_hold_the_spec_columns_and_never_the_target(spec: PipelineSpec, clean: Run) -> None:
    frame = features_of(spec, clean.lake, 1)
    assert list(frame.columns) == [spec.id_column, spec.event_date_column, *spec.feature_columns]
    assert spec.target.column not in frame.columns


def test_feature_values_are_the_source_rows(spec: PipelineSpec, clean: Run, source: pd.DataFrame) -> None:
    frame = features_of(spec, clean.lake, 2).set_index(spec.id_column)
    expected = source.loc[frame.index, spec.feature_columns]
    pd.testing.assert_frame_equal(frame[spec.feature_columns], expected, check_dtype=False)


# ---- labels arrive late -------------------------------------------------------------------------


def test_labels_land_label_delay_days_later(spec: PipelineSpec, clean: Run, source: pd.DataFrame) -> None:
    for n in range(1, DAYS + 1):
        labels = labels_of(spec, clean.lake, n)
        if n <= DELAY:
            assert labels is None, f"day {n} has labels although nothing is {DELAY} days old yet"
            assert clean.days[n - 1].label_rows_landed == 0
            continue
        assert labels is not None
        assert list(labels.columns) == [spec.id_column, spec.event_date_column, spec.target.column]
        seen = features_of(spec, clean.lake, n - DELAY)
        assert sorted(labels[spec.id_column]) == sorted(seen[spec.id_column])
        assert (labels[spec.event_date_column] == ds_of(n - DELAY)).all()
        truth = source.loc[labels[spec.id_column], spec.target.column].to_numpy()
        assert (labels[spec.target.column].to_numpy() == truth).all()
        assert clean.days[n - 1].label_rows_landed == len(labels)


def test_labels_of_the_last_days_never_land_inside_the_window(spec: PipelineSpec, clean: Run) -> None:
    labelled = pd.concat(
        [labels for n in range(1, DAYS + 1) if (labels := labels_of(spec, clean.lake, n)) is not None]
    )
    late_days = range(DAYS - DELAY + 1, DAYS + 1)
    late_ids = set(pd.concat([features_of(spec, clean.lake, n)[spec.id_column] for n in late_days]))
    assert late_ids and late_ids.isdisjoint(labelled[spec.id_column])
    assert set(labelled[spec.event_date_column]) == {ds_of(n) for n in range(1, DAYS - DELAY + 1)}
    assert sum(d.label_rows_landed for d in clean.days) == 7043 - len(late_ids)


def test_zero_delay_lands_labels_with_their_features(spec: PipelineSpec, tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    days = simulate(spec, lake, start=START, days=2, label_delay_days=0, seed=SEED)
    for n in (1, 2):
        labels = labels_of(spec, lake, n)
        assert labels is not None
        assert sorted(labels[spec.id_column]) == sorted(features_of(spec, lake, n)[spec.id_column])
    assert [d.label_rows_landed for d in days] == [d.feature_rows for d in days]


# ---- drift -------------------------------------------------------------------------------------


def test_only_days_from_the_drift_start_are_drifted(eventful: Run) -> None:
    assert [d.drifted for d in eventful.days] == [n >= DRIFT_DAY for n in range(1, DAYS + 1)]


def test_drift_days_have_higher_charges_and_more_month_to_month(
    spec: PipelineSpec, eventful: Run, source: pd.DataFrame
) -> None:
    before = pd.concat([features_of(spec, eventful.lake, n) for n in range(1, DRIFT_DAY)])
    after = pd.concat([features_of(spec, eventful.lake, n) for n in range(DRIFT_DAY, DAYS + 1)])
    assert after["monthly_charges"].mean() > 1.2 * before["monthly_charges"].mean()
    share_before = (before["contract"] == "Month-to-month").mean()
    share_after = (after["contract"] == "Month-to-month").mean()
    assert share_after > share_before + 0.15

    # Exactly the configured shift: charges scaled by 1.3, 60% of the other contracts moved.
    original = source.loc[after[spec.id_column]]
    np.testing.assert_allclose(after["monthly_charges"].to_numpy(), 1.3 * original["monthly_charges"].to_numpy())
    was_m2m = original["contract"].to_numpy() == "Month-to-month"
    is_m2m = after["contract"].to_numpy() == "Month-to-month"
    assert is_m2m[was_m2m].all()
    assert 0.5 < is_m2m[~was_m2m].mean() < 0.7


def test_days_before_the_drift_are_untouched(spec: PipelineSpec, clean: Run, eventful: Run) -> None:
    for n in range(1, DRIFT_DAY):
        if n == CORRUPT_DAY:
            continue
        name = spec.source.features_file
        assert (eventful.lake.landing_dir(spec.name, ds_of(n)) / name).read_bytes() == (
            clean.lake.landing_dir(spec.name, ds_of(n)) / name
        ).read_bytes()


# ---- a broken extract ---------------------------------------------------------------------------


def test_corrupt_day_has_duplicate_id_negative_number_and_unknown_category(
    spec: PipelineSpec, eventful: Run, source: pd.DataFrame
) -> None:
    numeric, categorical = spec.features.numeric[0], spec.features.categorical[-1]
    known = set(source[categorical].dropna())
    assert [d.corrupt for d in eventful.days] == [n == CORRUPT_DAY for n in range(1, DAYS + 1)]
    for n in range(1, DAYS + 1):
        frame = features_of(spec, eventful.lake, n)
        broken = n == CORRUPT_DAY
        assert frame[spec.id_column].duplicated().any() == broken
        assert (frame[numeric] < 0).any() == broken
        assert (~frame[categorical].isin(known)).any() == broken
    frame = features_of(spec, eventful.lake, CORRUPT_DAY)
    assert frame[spec.id_column].duplicated().sum() == 1
    assert len(frame) == eventful.days[CORRUPT_DAY - 1].feature_rows


def test_corrupt_day_labels_stay_intact(spec: PipelineSpec, eventful: Run, source: pd.DataFrame) -> None:
    labels = labels_of(spec, eventful.lake, CORRUPT_DAY + DELAY)
    assert labels is not None
    assert labels[spec.id_column].is_unique
    assert (labels[spec.event_date_column] == ds_of(CORRUPT_DAY)).all()
    assert len(labels) == eventful.days[CORRUPT_DAY - 1].feature_rows
    assert set(labels[spec.id_column]) <= set(source.index)


# ---- completeness marker and reproducibility ----------------------------------------------------


def test_success_marker_is_written_last(spec: PipelineSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(tmp_path)
    simulate(spec, lake, start=START, days=3, label_delay_days=1, seed=SEED)

    # Re-land the same folders: every data file must be written while its folder is *not* marked complete.
    original = simulate_module._write_table
    written: list[Path] = []

    def checked(spec_: PipelineSpec, frame: pd.DataFrame, path: Path) -> None:
        assert not (path.parent / SUCCESS_MARKER).exists(), f"{path.parent} is marked complete before {path.name}"
        original(spec_, frame, path)
        written.append(path)

    monkeypatch.setattr(simulate_module, "_write_table", checked)
    days = simulate(spec, lake, start=START, days=3, label_delay_days=1, seed=SEED)
    assert len(written) == 3 + 2  # features every day, labels from day 2 on

    for day in days:
        folder = lake.landing_dir(spec.name, day.ds)
        marker = folder / SUCCESS_MARKER
        assert json.loads(marker.read_text())["ds"] == day.ds
        data_files = [p for p in folder.iterdir() if p.name != SUCCESS_MARKER]
        assert all(marker.stat().st_mtime_ns >= p.stat().st_mtime_ns for p in data_files)
        expected = {SUCCESS_MARKER, spec.source.features_file}
        if day.label_rows_landed:
            expected.add(spec.source.labels_file)
        assert {p.name for p in folder.iterdir()} == expected  # no temporary files left behind


def test_relanding_with_a_longer_delay_leaves_no_stale_labels(spec: PipelineSpec, tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    simulate(spec, lake, start=START, days=6, label_delay_days=1, seed=SEED)
    days = simulate(spec, lake, start=START, days=6, label_delay_days=4, seed=SEED)
    for n in range(1, 5):
        stale = lake.landing_dir(spec.name, ds_of(n)) / spec.source.labels_file
        assert not stale.exists(), f"day {n} still holds labels of the earlier replay"
        assert days[n - 1].label_rows_landed == 0
    labels = labels_of(spec, lake, 5)
    assert labels is not None and (labels[spec.event_date_column] == ds_of(1)).all()


def _landing_files(lake: Lake) -> dict[str, bytes]:
    base = lake.root / "landing"
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(spec: PipelineSpec, clean: Run, tmp_path: Path) -> None:
    again = Lake(tmp_path)
    simulate(spec, again, start=START, days=DAYS, label_delay_days=DELAY, seed=SEED)
    first, second = _landing_files(clean.lake), _landing_files(again)
    assert len(first) == DAYS * 2 + (DAYS - DELAY)  # features + marker each day, labels from day 4 on
    assert first == second


def test_another_seed_gives_another_order(spec: PipelineSpec, clean: Run, tmp_path: Path) -> None:
    other = Lake(tmp_path)
    simulate(spec, other, start=START, days=DAYS, label_delay_days=DELAY, seed=SEED + 1)
    assert set(features_of(spec, other, 1)[spec.id_column]) != set(features_of(spec, clean.lake, 1)[spec.id_column])


@pytest.mark.parametrize(("days", "delay"), [(0, 3), (3, -1)])
def test_refuses_nonsense_arguments(spec: PipelineSpec, tmp_path: Path, days: int, delay: int) -> None:
    with pytest.raises(ValueError):
        simulate(spec, Lake(tmp_path), start=START, days=days, label_delay_days=delay)
    assert not (tmp_path / "landing").exists()


def test_a_spec_without_simulation_cannot_be_replayed(spec: PipelineSpec, tmp_path: Path) -> None:
    bare = spec.model_copy(update={"simulation": None})
    with pytest.raises(ValueError, match="no 'simulation' section"):
        simulate(bare, Lake(tmp_path), start=START, days=2)
