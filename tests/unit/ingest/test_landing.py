"""Ingest: complete landing drops become immutable, versioned raw partitions; labels keep their arrival date."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml_lifecycle.exceptions import BadLabels, LandingNotReady
from ml_lifecycle.ingest import ingest_landing, read_raw_features
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle_dev.simulate import simulate

DAY1, DAY2, DAY3 = "2024-02-01", "2024-02-02", "2024-02-03"


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def landed(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three simulated drops, labels one day late (so days 2 and 3 carry labels)."""
    root = tmp_path_factory.mktemp("landed")
    simulate(spec, Lake(root), start=date.fromisoformat(DAY1), days=3, label_delay_days=1, seed=3)
    return root / "landing"


@pytest.fixture
def lake(landed: Path, tmp_path: Path) -> Lake:
    """A fresh lake per test with its own copy of the landing zone."""
    shutil.copytree(landed, tmp_path / "landing")
    return Lake(tmp_path)


def features_path(spec: PipelineSpec, lake: Lake, ds: str) -> Path:
    return lake.landing_dir(spec.name, ds) / spec.source.features_file


def labels_path(spec: PipelineSpec, lake: Lake, ds: str) -> Path:
    return lake.landing_dir(spec.name, ds) / spec.source.labels_file


def manifest(spec: PipelineSpec, lake: Lake, ds: str) -> dict:
    return json.loads((lake.partition_dir("raw", spec.name, ds) / SUCCESS_MARKER).read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- a drop that is not complete ----------------------------------------------------------------


def test_refuses_a_landing_folder_without_success_marker(spec: PipelineSpec, lake: Lake) -> None:
    folder = lake.landing_dir(spec.name, DAY1)
    (folder / SUCCESS_MARKER).unlink()
    with pytest.raises(LandingNotReady) as info:
        ingest_landing(spec, lake, DAY1)
    assert str(folder) in str(info.value)
    assert SUCCESS_MARKER in str(info.value)
    assert lake.partitions("raw", spec.name) == []
    assert not lake.partition_dir("raw", spec.name, DAY1).exists()


def test_refuses_a_missing_landing_folder(spec: PipelineSpec, lake: Lake) -> None:
    with pytest.raises(LandingNotReady, match="2024-03-09"):
        ingest_landing(spec, lake, "2024-03-09")


def test_refuses_a_marked_drop_without_its_features_file(spec: PipelineSpec, lake: Lake) -> None:
    features_path(spec, lake, DAY1).unlink()
    with pytest.raises(LandingNotReady, match=spec.source.features_file):
        ingest_landing(spec, lake, DAY1)


def test_refuses_a_date_that_is_not_a_date(spec: PipelineSpec, lake: Lake) -> None:
    with pytest.raises(ValueError):
        ingest_landing(spec, lake, "yesterday")


# ---- features into raw ---------------------------------------------------------------------------


def test_first_ingest_copies_into_raw_with_sha256_version_and_manifest(spec: PipelineSpec, lake: Lake) -> None:
    source = features_path(spec, lake, DAY1)
    result = ingest_landing(spec, lake, DAY1)

    version = sha256(source)
    rows = len(pd.read_csv(source))
    assert result["status"] == "ingested"
    assert result["data_version"] == version
    assert result["rows"] == rows
    assert result["replaced_version"] is None
    assert result["label_rows"] == 0  # day 1 carries no labels

    raw_file = Path(result["raw_path"])
    assert raw_file.parent == lake.partition_dir("raw", spec.name, DAY1)
    assert raw_file.read_bytes() == source.read_bytes()
    assert lake.partitions("raw", spec.name) == [DAY1]

    meta = manifest(spec, lake, DAY1)
    assert meta["current"]["data_version"] == version
    assert meta["current"]["file"] == raw_file.name
    assert meta["current"]["rows"] == rows
    assert meta["current"]["size_bytes"] == source.stat().st_size
    assert [v["data_version"] for v in meta["versions"]] == [version]

    frame, data_version = read_raw_features(spec, lake, DAY1)
    assert data_version == version
    assert len(frame) == rows
    assert frame[spec.id_column].map(type).eq(str).all()


def test_reingesting_the_same_file_is_a_noop(spec: PipelineSpec, lake: Lake) -> None:
    first = ingest_landing(spec, lake, DAY1)
    partition = lake.partition_dir("raw", spec.name, DAY1)
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in partition.iterdir()}

    again = ingest_landing(spec, lake, DAY1)
    assert again["status"] == "unchanged"
    assert again["data_version"] == first["data_version"]
    assert again["raw_path"] == first["raw_path"]
    after = {p.name: (p.stat().st_ino, p.read_bytes()) for p in partition.iterdir()}
    assert after == before  # not even rewritten: same files, same inodes, same manifest


def test_a_changed_file_becomes_a_new_version_and_the_old_one_is_kept(spec: PipelineSpec, lake: Lake) -> None:
    source = features_path(spec, lake, DAY1)
    first = ingest_landing(spec, lake, DAY1)
    old_bytes = source.read_bytes()

    corrected = pd.read_csv(source, dtype={spec.id_column: str})
    corrected = corrected.iloc[:-5]  # the source re-delivers the day without 5 rows
    corrected.to_csv(source, index=False)
    second = ingest_landing(spec, lake, DAY1)

    assert second["status"] == "new_version"
    assert second["data_version"] == sha256(source) != first["data_version"]
    assert second["replaced_version"] == first["data_version"]
    assert second["rows"] == first["rows"] - 5

    partition = lake.partition_dir("raw", spec.name, DAY1)
    assert Path(first["raw_path"]).read_bytes() == old_bytes  # the first delivery is still there, intact
    assert Path(second["raw_path"]).read_bytes() == source.read_bytes()
    assert sorted(p.name for p in partition.iterdir()) == sorted(
        [SUCCESS_MARKER, Path(first["raw_path"]).name, Path(second["raw_path"]).name]
    )
    meta = manifest(spec, lake, DAY1)
    assert meta["current"]["data_version"] == second["data_version"]
    assert [v["data_version"] for v in meta["versions"]] == [first["data_version"], second["data_version"]]

    frame, version = read_raw_features(spec, lake, DAY1)
    assert version == second["data_version"] and len(frame) == second["rows"]
    assert ingest_landing(spec, lake, DAY1)["status"] == "unchanged"
    # No staging or retired folders are left next to the partition.
    assert [p.name for p in partition.parent.iterdir()] == [f"ds={DAY1}"]


def test_a_redelivered_older_version_never_rewrites_a_published_file(
    spec: PipelineSpec, lake: Lake, tmp_path: Path
) -> None:
    source = features_path(spec, lake, DAY1)
    original = source.read_bytes()
    first = ingest_landing(spec, lake, DAY1)
    # A reader holding the published file (a hard link keeps the very inode).
    held = tmp_path / "held.csv"
    held.hardlink_to(first["raw_path"])
    stamp = held.stat().st_mtime_ns

    source.write_bytes(original.replace(b"\n", b"\r\n"))  # same rows, different bytes
    ingest_landing(spec, lake, DAY1)
    source.write_bytes(original)  # and back to the first delivery
    third = ingest_landing(spec, lake, DAY1)

    assert third["status"] == "new_version" and third["data_version"] == first["data_version"]
    assert held.stat().st_mtime_ns == stamp, "a published raw file was rewritten in place"
    assert held.read_bytes() == original == Path(third["raw_path"]).read_bytes()
    history = [v["data_version"] for v in manifest(spec, lake, DAY1)["versions"]]
    assert history[0] == history[2] == first["data_version"] != history[1]


# ---- labels -------------------------------------------------------------------------------------


def test_labels_land_under_their_arrival_date(spec: PipelineSpec, lake: Lake) -> None:
    landed = pd.read_csv(labels_path(spec, lake, DAY2), dtype={spec.id_column: str})
    result = ingest_landing(spec, lake, DAY2)
    assert result["label_rows"] == len(landed) > 0

    assert lake.partitions("labels", spec.name) == [DAY2]
    labels = pd.read_parquet(lake.partition_dir("labels", spec.name, DAY2) / "labels.parquet")
    assert list(labels.columns) == [spec.id_column, spec.event_date_column, spec.target.column, "label_arrived_ds"]
    assert (labels["label_arrived_ds"] == DAY2).all()
    assert (labels[spec.event_date_column] == DAY1).all()  # they describe the customers seen a day earlier
    assert labels[spec.id_column].tolist() == landed[spec.id_column].tolist()
    assert labels[spec.target.column].tolist() == landed[spec.target.column].tolist()
    meta = lake.partition_metadata("labels", spec.name, DAY2)
    assert meta["rows"] == len(landed)
    assert meta["data_version"] == sha256(labels_path(spec, lake, DAY2))


def test_a_day_without_labels_writes_no_label_partition(spec: PipelineSpec, lake: Lake) -> None:
    assert ingest_landing(spec, lake, DAY1)["label_rows"] == 0
    assert lake.partitions("labels", spec.name) == []


def test_labels_without_the_target_column_are_refused(spec: PipelineSpec, lake: Lake) -> None:
    path = labels_path(spec, lake, DAY3)
    pd.read_csv(path).drop(columns=[spec.target.column]).to_csv(path, index=False)
    with pytest.raises(BadLabels) as info:
        ingest_landing(spec, lake, DAY3)
    assert str(path) in str(info.value)
    assert spec.target.column in str(info.value)
    assert lake.partitions("labels", spec.name) == []


def test_labels_with_empty_values_are_refused(spec: PipelineSpec, lake: Lake) -> None:
    path = labels_path(spec, lake, DAY3)
    labels = pd.read_csv(path)
    labels.loc[:2, spec.target.column] = None
    labels.to_csv(path, index=False)
    with pytest.raises(BadLabels, match="3 labels are empty") as info:
        ingest_landing(spec, lake, DAY3)
    assert str(path) in str(info.value)
    assert lake.partitions("labels", spec.name) == []
