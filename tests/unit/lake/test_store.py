"""The lake on object storage: moto's real S3 server in a subprocess, reached over HTTP through s3fs.

The same guarantees as on a local folder (a partition is visible only when complete, a re-write never
shows a mix), and the real lifecycle core producing the same outputs as on a local lake.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_lifecycle.exceptions import LakeStorageError, PartitionNotFound
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.lake import store as lake_module

DS = "2026-10-01"


# ---- a real S3-compatible server: the s3_endpoint, s3 and bucket fixtures of conftest.py ----------
def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def body(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def other_machine(uri: str, monkeypatch: pytest.MonkeyPatch, cache: Path) -> Lake:
    """A Lake with a cache of its own, as on another worker."""
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_CACHE", str(cache))
    return Lake(uri)


def two_files(version: str, *, extra: bool = True) -> Any:
    def write(staging: Path) -> dict[str, Any]:
        (staging / "a.txt").write_text(version)
        if extra:
            (staging / "sub").mkdir()
            (staging / "sub" / "b.txt").write_text(version)
        return {"version": version, "rows": 2 if extra else 1}
    return write


# ---- (1) round trip ----------------------------------------------------------------------------
def test_publish_read_list_and_metadata_round_trip(
    s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"s3://{bucket}/lake"
    lake = Lake(uri)
    assert lake.remote and lake.uri == uri and not str(lake.root).startswith("s3")
    assert lake.partitions("validated", "p") == [] and lake.reports("p", "drift") == []

    folder = lake.publish_partition("validated", "p", DS, two_files("one"))
    assert (folder / "a.txt").read_text() == "one" and (folder / "sub" / "b.txt").read_text() == "one"

    # In the bucket: the generation's objects, and the marker naming them, written last.
    marker = json.loads(body(s3, bucket, f"lake/validated/p/ds={DS}/{SUCCESS_MARKER}"))
    generation = marker["generation"]
    assert keys(s3, bucket) == sorted([
        f"lake/validated/p/ds={DS}/{SUCCESS_MARKER}",
        f"lake/validated/p/ds={DS}/_gen={generation}/a.txt",
        f"lake/validated/p/ds={DS}/_gen={generation}/sub/b.txt",
    ])
    assert marker["metadata"] == {"version": "one", "rows": 2}
    assert sorted(f["path"] for f in marker["files"]) == ["a.txt", "sub/b.txt"]
    assert folder.name == f"_gen={generation}"

    # Another machine lists, reads metadata (from the marker) and materialises the partition.
    reader = other_machine(uri, monkeypatch, tmp_path / "cache-2")
    assert reader.partitions("validated", "p") == [DS]
    assert reader.partition_metadata("validated", "p", DS) == {"version": "one", "rows": 2}
    copy = reader.require_partition("validated", "p", DS)
    assert copy != folder and copy.is_relative_to(tmp_path / "cache-2")
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == [
        SUCCESS_MARKER, "a.txt", "sub/b.txt"]
    assert json.loads((copy / SUCCESS_MARKER).read_text()) == {"version": "one", "rows": 2}
    assert reader.is_complete(reader.partition_dir("validated", "p", DS))

    # Reports, loose files and landing drops.
    reader.publish_report("p", "drift", DS, lambda s: (s / "r.json").write_text("{}") and None)
    assert lake.reports("p", "drift") == [DS]
    assert (lake.report_dir("p", "drift", DS) / "r.json").read_text() == "{}"
    # Publishing again at a folder that report_dir resolved to its generation replaces the report.
    lake.publish(lake.report_dir("p", "drift", DS), lambda s: (s / "r.json").write_text("[]") and None)
    assert (reader.report_dir("p", "drift", DS) / "r.json").read_text() == "[]"
    assert [k for k in keys(s3, bucket, "lake/reports/p/drift/") if k.endswith(SUCCESS_MARKER)] == [
        f"lake/reports/p/drift/ds={DS}/{SUCCESS_MARKER}"]
    gate = lake.report_dir("p", "gate", DS) / "v1.json"
    lake.write_json(gate, {"decision": "PROMOTE"})
    assert json.loads(body(s3, bucket, f"lake/reports/p/gate/ds={DS}/v1.json")) == {"decision": "PROMOTE"}
    lake.publish_landing("p", DS, lambda s: (s / "features.csv").write_text("x\n1\n") and {"source": "test"})
    landing = reader.landing_dir("p", DS)
    assert (landing / "features.csv").read_text() == "x\n1\n"
    assert json.loads((landing / SUCCESS_MARKER).read_text()) == {"source": "test"}
    assert reader.location(landing / "features.csv") == f"{uri}/landing/p/{DS}/features.csv"

    # An incomplete partition (objects, no marker) is invisible, and the error names where it was looked for.
    s3.put_object(Bucket=bucket, Key="lake/validated/p/ds=2026-10-02/_gen=x/a.txt", Body=b"half")
    assert reader.partitions("validated", "p") == [DS]
    with pytest.raises(PartitionNotFound, match=f"s3://{bucket}/lake/validated/p/ds=2026-10-02"):
        reader.require_partition("validated", "p", "2026-10-02")
    with pytest.raises(PartitionNotFound):
        reader.partition_metadata("validated", "p", "2026-10-02")
    assert not reader.is_complete(reader.partition_dir("validated", "p", "2026-10-02"))
    assert not (reader.landing_dir("p", "2026-10-02") / SUCCESS_MARKER).exists()


def test_bad_root_or_missing_bucket_names_the_lake_root(s3: Any) -> None:
    with pytest.raises(LakeStorageError, match=r"lake root s3://no-such-bucket-[0-9a-f]+/lake: bucket .* does not exist"):
        Lake(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/lake").partitions("validated", "p")
    with pytest.raises(LakeStorageError, match="lake root nope://x/lake: cannot open its filesystem"):
        Lake("nope://x/lake").partitions("validated", "p")


# ---- (2) failed writes -------------------------------------------------------------------------
def test_a_failed_write_publishes_nothing_and_keeps_the_previous_generation(
    s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(f"s3://{bucket}/lake")
    lake.publish_partition("validated", "p", DS, two_files("good"))
    before = keys(s3, bucket)

    def explode(staging: Path) -> dict[str, Any]:
        (staging / "a.txt").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        lake.publish_partition("validated", "p", DS, explode)
    with pytest.raises(RuntimeError, match="disk full"):
        lake.publish_partition("validated", "p", "2026-10-05", explode)
    assert keys(s3, bucket) == before  # nothing uploaded, for the re-written date nor for the new one
    assert lake.partitions("validated", "p") == [DS]

    # A failure while uploading (here: at the marker) deletes what was uploaded; the old marker stays.
    real_put_bytes = lake_module._ObjectStore.put_bytes

    def failing_marker(self: Any, key: str, data: bytes) -> None:
        if key.endswith(SUCCESS_MARKER):
            raise LakeStorageError("connection reset")
        real_put_bytes(self, key, data)

    monkeypatch.setattr(lake_module._ObjectStore, "put_bytes", failing_marker)
    with pytest.raises(LakeStorageError, match="connection reset"):
        lake.publish_partition("validated", "p", DS, two_files("new"))
    monkeypatch.setattr(lake_module._ObjectStore, "put_bytes", real_put_bytes)
    assert keys(s3, bucket) == before
    folder = Lake(lake.uri).require_partition("validated", "p", DS)
    assert (folder / "a.txt").read_text() == "good" and (folder / "sub" / "b.txt").read_text() == "good"
    assert not [p for p in folder.parent.parent.iterdir() if p.name.startswith(".")]  # no staging left


# ---- (3) generations swap, readers never see a mix ---------------------------------------------
def test_republishing_swaps_generations_and_readers_never_see_a_mix(
    s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"s3://{bucket}/lake"
    writer = Lake(uri)
    writer.publish_partition("validated", "p", DS, two_files("one"))
    reader = other_machine(uri, monkeypatch, tmp_path / "reader")
    old = reader.require_partition("validated", "p", DS)
    old_marker = json.loads(body(s3, bucket, f"lake/validated/p/ds={DS}/{SUCCESS_MARKER}"))

    new = writer.publish_partition("validated", "p", DS, two_files("two", extra=False))
    generation = json.loads(body(s3, bucket, f"lake/validated/p/ds={DS}/{SUCCESS_MARKER}"))["generation"]
    assert keys(s3, bucket) == [f"lake/validated/p/ds={DS}/{SUCCESS_MARKER}",
                                f"lake/validated/p/ds={DS}/_gen={generation}/a.txt"]  # the old one is deleted
    assert sorted(p.name for p in new.iterdir()) == [SUCCESS_MARKER, "a.txt"]  # no leftover sub/b.txt
    # What a reader already resolved never changes under it; a new resolution sees the new generation whole.
    assert (old / "a.txt").read_text() == "one" and (old / "sub" / "b.txt").read_text() == "one"
    fresh = reader.require_partition("validated", "p", DS)
    assert sorted(p.name for p in fresh.iterdir()) == [SUCCESS_MARKER, "a.txt"]
    assert (fresh / "a.txt").read_text() == "two"
    assert reader.partition_metadata("validated", "p", DS) == {"version": "two", "rows": 1}

    # A reader that read the old marker just before the swap finds its objects gone and resolves again.
    late = other_machine(uri, monkeypatch, tmp_path / "late")
    real_marker = Lake._marker
    calls: list[str] = []

    def stale_first(self: Lake, key: str) -> dict[str, Any] | None:
        calls.append(key)
        return old_marker if len(calls) == 1 else real_marker(self, key)

    monkeypatch.setattr(Lake, "_marker", stale_first)
    resolved = late.require_partition("validated", "p", DS)
    monkeypatch.setattr(Lake, "_marker", real_marker)
    assert len(calls) == 2 and (resolved / "a.txt").read_text() == "two"
    assert not (resolved / "sub").exists()


def test_concurrent_readers_see_one_whole_generation_at_a_time(
    s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"s3://{bucket}/lake"
    writer = Lake(uri)

    def version(n: int) -> Any:
        def write(staging: Path) -> dict[str, Any]:
            for i in range(n % 3 + 2):  # a different file set in every generation
                (staging / f"part-{i}.txt").write_text(str(n))
            return {"n": n}
        return write

    writer.publish_partition("validated", "p", DS, version(0))
    reader = other_machine(uri, monkeypatch, tmp_path / "reader")
    seen: list[int] = []
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        try:
            read_until_done()
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            problems.append(repr(exc))

    def read_until_done() -> None:
        while not done.is_set():
            folder = reader.require_partition("validated", "p", DS)
            files = sorted(p for p in folder.iterdir() if p.name != SUCCESS_MARKER)
            values = {p.read_text() for p in files}
            n = int(json.loads((folder / SUCCESS_MARKER).read_text())["n"])
            if values != {str(n)} or len(files) != n % 3 + 2:
                problems.append(f"{folder.name}: files {[p.name for p in files]} hold {values}, marker says {n}")
            seen.append(n)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(1, 8):
            writer.publish_partition("validated", "p", DS, version(n))
    finally:
        done.set()
        thread.join(timeout=60)
    assert not problems
    assert len(set(seen)) >= 2 and seen == sorted(seen)  # it saw the swaps happen, in order
    assert len({k.split("/")[4] for k in keys(s3, bucket) if "/_gen=" in k}) == 1


# ---- (4) the real lifecycle core on the remote lake ----------------------------------------------
START = date(2024, 6, 1)
DAYS = 6
CORRUPT_DAY = 5
SCORED_DS = (START + timedelta(days=DAYS - 1)).isoformat()


def test_the_lifecycle_core_on_object_storage_matches_a_local_lake(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    from ml_lifecycle.monitoring import check_partition_drift
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.training import assemble_window, train_and_register
    from support import local_tracking, validated_lake

    spec = load_spec("churn")
    uri = f"s3://{bucket}/lake"
    timings: dict[str, float] = {}

    def lifecycle(root: Any, label: str) -> tuple[Lake, dict[str, Any]]:
        started = time.perf_counter()
        lake, _ = validated_lake(spec, root, start=START, days=DAYS, label_delay_days=2,
                                 corrupt_days=frozenset({CORRUPT_DAY}), seed=9)
        window = assemble_window(spec, lake, SCORED_DS)
        timings[label] = time.perf_counter() - started
        return lake, window

    local, local_window = lifecycle(tmp_path / "lake", "local")
    remote, remote_window = lifecycle(uri, "remote")
    assert remote_window["train_path"].startswith(f"{uri}/training/churn/ds={SCORED_DS}/_gen=")
    for zone in ("raw", "validated", "quarantine", "labels", "training"):
        assert remote.partitions(zone, spec.name) == local.partitions(zone, spec.name), zone
    assert remote.partitions("quarantine", spec.name) == [(START + timedelta(days=CORRUPT_DAY - 1)).isoformat()]
    for part in ("train_path", "holdout_path"):
        pd.testing.assert_frame_equal(pd.read_parquet(remote_window[part]), pd.read_parquet(local_window[part]))
    assert remote_window["data_versions"] == local_window["data_versions"]

    # One model, trained from the remote window (read from the bucket), serves both lakes.
    target = local_tracking(tmp_path / "mlflow")
    trained = train_and_register(spec, remote_window, target, {"airflow.dag_id": "churn_training"})
    target.activate().set_registered_model_alias(spec.model.registered_name, "champion", trained["version"])

    from ml_lifecycle.inference import score_partition

    outputs = {}
    for label, lake in (("local", local), ("remote", remote)):
        started = time.perf_counter()
        scored = score_partition(spec, lake, SCORED_DS, target)
        drift = check_partition_drift(spec, lake, SCORED_DS, target)
        timings[label] += time.perf_counter() - started
        outputs[label] = (scored, drift)

    (scored_l, drift_l), (scored_r, drift_r) = outputs["local"], outputs["remote"]
    columns = ["customer_id", "event_date", "score", "decision", "model_version"]
    from_bucket = pd.read_parquet(lake_location(remote, "predictions", spec.name, SCORED_DS) + "/predictions.parquet")
    pd.testing.assert_frame_equal(from_bucket[columns], pd.read_parquet(scored_l["predictions_path"])[columns])
    assert scored_r["rows"] == scored_l["rows"] > 0
    for key in ("dataset_drift", "drift_share", "drifted_columns", "psi_flagged", "reference_version"):
        assert drift_r[key] == drift_l[key], key

    # Everything is in the bucket, behind markers; no staging, scratch or shard objects are left.
    objects = keys(s3, bucket, "lake/")
    for prefix in (f"raw/churn/ds={SCORED_DS}", f"validated/churn/ds={SCORED_DS}", f"predictions/churn/ds={SCORED_DS}",
                   f"training/churn/ds={SCORED_DS}", f"reports/churn/drift/ds={SCORED_DS}"):
        assert f"lake/{prefix}/{SUCCESS_MARKER}" in objects, prefix
        marker = json.loads(body(s3, bucket, f"lake/{prefix}/{SUCCESS_MARKER}"))
        for entry in marker["files"]:
            assert f"lake/{prefix}/_gen={marker['generation']}/{entry['path']}" in objects
    assert f"lake/reports/churn/drift/ds={SCORED_DS}/_gen=" in " ".join(objects)
    assert f"lake/reports/churn/validation/ds={SCORED_DS}/validation.json" in objects
    assert f"lake/landing/churn/{SCORED_DS}/{SUCCESS_MARKER}" in objects
    assert not [k for k in objects if "_shards" in k or "/." in k]
    print(f"\ncore lifecycle (simulate+ingest+validate {DAYS} days, window, score, drift): "
          f"local {timings['local']:.1f}s, remote {timings['remote']:.1f}s")


def lake_location(lake: Lake, zone: str, pipeline: str, ds: str) -> str:
    """The URI of a published partition's generation, read from its marker in the bucket."""
    return lake.location(lake.require_partition(zone, pipeline, ds))
