from __future__ import annotations

from pathlib import Path

import pytest

from ml_lifecycle.exceptions import PartitionNotFound
from ml_lifecycle.lake import Lake


def test_partition_is_invisible_until_complete_and_replaced_whole(tmp_path):
    lake = Lake(tmp_path)

    def first(staging):
        (staging / "a.txt").write_text("one")
        (staging / "b.txt").write_text("one")
        return {"rows": 2}

    lake.publish_partition("validated", "p", "2026-10-01", first)
    assert lake.partitions("validated", "p") == ["2026-10-01"]
    assert lake.partition_metadata("validated", "p", "2026-10-01") == {"rows": 2}

    def second(staging):
        (staging / "a.txt").write_text("two")
        return {"rows": 1}

    final = lake.publish_partition("validated", "p", "2026-10-01", second)
    assert sorted(p.name for p in final.iterdir()) == ["_SUCCESS", "a.txt"]  # no leftover b.txt
    assert (final / "a.txt").read_text() == "two"
    assert not [p for p in final.parent.iterdir() if p.name.startswith(".")]


def test_failed_write_leaves_previous_partition_untouched(tmp_path):
    lake = Lake(tmp_path)
    lake.publish_partition("validated", "p", "2026-10-01", lambda s: (s / "a.txt").write_text("good") and None)

    def explode(staging):
        (staging / "a.txt").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        lake.publish_partition("validated", "p", "2026-10-01", explode)
    folder = lake.require_partition("validated", "p", "2026-10-01")
    assert (folder / "a.txt").read_text() == "good"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_incomplete_partition_is_not_listed(tmp_path):
    lake = Lake(tmp_path)
    half = lake.partition_dir("validated", "p", "2026-10-02")
    half.mkdir(parents=True)
    (half / "data.parquet").write_text("partial")
    assert lake.partitions("validated", "p") == []
    with pytest.raises(PartitionNotFound, match="2026-10-02"):
        lake.require_partition("validated", "p", "2026-10-02")


def test_bad_date_and_zone_are_refused(tmp_path):
    lake = Lake(tmp_path)
    with pytest.raises(ValueError):
        lake.partition_dir("validated", "p", "10/01/2026")
    with pytest.raises(ValueError, match="unknown lake zone"):
        lake.partition_dir("elsewhere", "p", "2026-10-01")


def test_publishing_the_same_inputs_again_changes_nothing(tmp_path: Path) -> None:
    from ml_lifecycle.lake import INPUTS_KEY, fingerprint_of

    lake = Lake(tmp_path)
    calls: list[str] = []

    def writer(text: str):
        def write(staging: Path) -> dict[str, str]:
            calls.append(text)
            (staging / "part.txt").write_text(text)
            return {"written": text}
        return write

    inputs = fingerprint_of({"data_version": "abc", "model_version": "1"})
    folder = lake.publish_partition("predictions", "p", "2026-10-01", writer("first"), inputs=inputs)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = lake.publish_partition("predictions", "p", "2026-10-01", writer("second"), inputs=inputs)
    assert again == folder and calls == ["first"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert lake.partition_metadata("predictions", "p", "2026-10-01")[INPUTS_KEY] == inputs

    changed = fingerprint_of({"data_version": "abc", "model_version": "2"})
    lake.publish_partition("predictions", "p", "2026-10-01", writer("third"), inputs=changed)
    assert calls == ["first", "third"]
    assert (lake.partition_dir("predictions", "p", "2026-10-01") / "part.txt").read_text() == "third"
    assert fingerprint_of({"b": 1, "a": [1, 2]}) == fingerprint_of({"a": [1, 2], "b": 1})
