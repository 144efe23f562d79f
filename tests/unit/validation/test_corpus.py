"""The bad-input corpus (tests/corpus/, made by make_corpus.py from wa_churn): one case per file.

Each broken file lands as a new delivery of a date that was already validated, in a lake with three
earlier validated days. Every case checks the specific message, that the bytes that arrived are kept
(in raw/, or still in landing/ when refused before ingest), that nothing partial became visible in
validated/, and that the previously validated partition is untouched unless the new file passed.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_lifecycle.exceptions import BadLabels, BadLandingFile, DataValidationError, LandingInTheFuture
from ml_lifecycle.ingest import ingest_landing, read_raw_features
from ml_lifecycle.lake import SUCCESS_MARKER, Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.validation import validate_partition

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DS = "2026-10-10"
HISTORY = ["2026-10-07", "2026-10-08", "2026-10-09"]
FUTURE = "2099-01-01"

CSV: dict[str, Any] = {}
PARQUET = {"format": "parquet", "features_file": "features.parquet"}
GZIP = {"features_file": "features.csv.gz"}
US_DATES = {"date_format": "%m/%d/%Y"}
DROP = {"policy": "drop_invalid_rows", "max_invalid_fraction": 0.05}

# file, source options, validation policy, outcome ("ingest" | "validate" | "labels" | "future" | "pass"), message
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    ("empty.csv", CSV, {}, "ingest", "file is empty (0 bytes)"),
    ("whitespace_only.csv", CSV, {}, "ingest", "no header line"),
    ("wrong_delimiter.csv", CSV, {}, "ingest", "wrong delimiter: the header is one column"),
    ("latin1_bytes.csv", CSV, {}, "ingest", "not valid utf-8 text"),
    ("truncated_last_line.csv", CSV, {}, "ingest", "last line is truncated"),
    ("binary_garbage.csv", CSV, {}, "ingest", "binary content (NUL bytes)"),
    ("ragged_rows.csv", CSV, {}, "ingest", "not parseable as CSV with delimiter ','"),
    ("not_gzip.csv.gz", GZIP, {}, "ingest", "named .gz but is not gzip data"),
    ("corrupt.parquet", PARQUET, {}, "ingest", "corrupt Parquet file"),
    ("csv_named.parquet", PARQUET, {}, "ingest", "not a Parquet file (no PAR1 magic bytes"),
    ("header_only.csv", CSV, {}, "validate", "expect_table_row_count_to_be_between"),
    ("missing_column.csv", CSV, {}, "validate", "expect_column_to_exist(contract)"),
    ("renamed_column.csv", CSV, {}, "validate", "expect_column_to_exist(tenure)"),
    ("wrong_type.csv", CSV, {}, "validate", "expect_column_values_to_be_in_type_list(tenure)"),
    ("all_null_column.csv", CSV, {}, "validate", "expect_column_values_to_not_be_null(monthly_charges)"),
    ("negative_tenure.csv", CSV, {}, "validate", "expect_column_values_to_be_between(tenure)"),
    ("out_of_range_charges.csv", CSV, {}, "validate", "expect_column_values_to_be_between(monthly_charges)"),
    ("unknown_category.csv", CSV, {}, "validate", "expect_column_values_to_be_in_set(contract)"),
    ("duplicated_ids.csv", CSV, {}, "validate", "expect_column_values_to_be_unique(customer_id)"),
    ("null_ids.csv", CSV, {}, "validate", "expect_column_values_to_not_be_null(customer_id)"),
    ("nan_and_inf.csv", CSV, {}, "validate", "expect_column_values_to_be_between(tenure)"),
    ("binary_not_0_1.csv", CSV, {}, "validate", "expect_column_values_to_be_in_set(senior_citizen)"),
    ("many_missing_total_charges.csv", CSV, {}, "validate", "expect_column_values_to_not_be_null(total_charges)"),
    ("wrong_date_format.csv", CSV, {}, "validate", "expect_column_values_to_match_strftime_format(event_date)"),
    ("rows_10x.csv", CSV, {}, "validate", "expect_table_row_count_to_be_between"),
    ("rows_0.01x.csv", CSV, {}, "validate", "expect_table_row_count_to_be_between"),
    ("many_invalid_rows.csv", CSV, DROP, "validate", "exceed max_invalid_fraction 5.0%"),
    ("future_date.csv", CSV, {}, "future", "is dated after today"),
    ("labels_duplicated.csv", CSV, {}, "labels", "2 id(s) labelled more than once"),
    ("labels_invalid_values.csv", CSV, {}, "labels", "invalid label values"),
    ("labels_missing_target.csv", CSV, {}, "labels", "labels file lacks columns ['churn']"),
    ("labels_empty_values.csv", CSV, {}, "labels", "2 labels are empty"),
    ("few_invalid_rows.csv", CSV, DROP, "pass", "3 rows dropped"),
    ("extra_column.csv", CSV, {}, "pass", "expect_table_columns_to_match_set"),
    ("utf8_bom.csv", CSV, {}, "pass", ""),
    ("crlf_line_endings.csv", CSV, {}, "pass", ""),
    ("us_date_format.csv", US_DATES, {}, "pass", ""),
    ("gzipped.csv.gz", GZIP, {}, "pass", ""),
    ("dates_typed.parquet", PARQUET, {}, "pass", ""),
    ("labels_good.csv", CSV, {}, "pass", ""),
]


def variant(spec: PipelineSpec, source: dict[str, Any], policy: dict[str, Any]) -> PipelineSpec:
    return spec.model_copy(update={
        "source": spec.source.model_copy(update=source),
        "validation": spec.validation.model_copy(update=policy),
    })


def land(spec: PipelineSpec, lake: Lake, ds: str, features: Path, labels: Path | None = None) -> Path:
    folder = lake.landing_dir(spec.name, ds)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    shutil.copyfile(features, folder / spec.source.features_file)
    if labels is not None:
        shutil.copyfile(labels, folder / spec.source.labels_file)
    (folder / SUCCESS_MARKER).write_text("{}")
    return folder


def run_day(spec: PipelineSpec, lake: Lake, ds: str) -> dict[str, Any]:
    ingest_landing(spec, lake, ds)
    frame, version = read_raw_features(spec, lake, ds)
    return validate_partition(spec, lake, ds, frame, data_version=version)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three validated history days and a validated DS, from the corpus's good files."""
    spec = load_spec("churn")
    root = tmp_path_factory.mktemp("corpus-lake")
    lake = Lake(root)
    for number, ds in enumerate(HISTORY, start=1):
        land(spec, lake, ds, CORPUS / f"history_{number}.csv")
        run_day(spec, lake, ds)
    land(spec, lake, DS, CORPUS / "clean.csv")
    run_day(spec, lake, DS)
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_the_corpus_is_complete() -> None:
    named = {case[0] for case in CASES}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "make_corpus.py" and p.is_file()}
    assert on_disk - named == {"history_1.csv", "history_2.csv", "history_3.csv", "clean.csv", "labels_unknown_ids.csv"}
    assert named <= on_disk
    assert len(named) + 1 >= 30  # labels_unknown_ids.csv has its own test below


@pytest.mark.parametrize(("name", "source", "policy", "outcome", "message"), CASES, ids=[c[0] for c in CASES])
def test_corpus_file(
    template: Path, tmp_path: Path, name: str, source: dict[str, Any], policy: dict[str, Any], outcome: str,
    message: str,
) -> None:
    shutil.copytree(template, tmp_path / "lake")
    lake = Lake(tmp_path / "lake")
    spec = variant(load_spec("churn"), source, policy)
    previous = lake.partition_dir("validated", spec.name, DS)
    before = snapshot(previous)
    path = CORPUS / name
    is_labels = name.startswith("labels_")
    ds = FUTURE if outcome == "future" else DS
    if is_labels:
        # labels of the last history day arrive with a re-delivery of DS's (unchanged) features
        land(spec, lake, DS, CORPUS / "clean.csv", labels=path)
    else:
        land(spec, lake, ds, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    error: Exception | None = None
    result: dict[str, Any] = {}
    try:
        result = run_day(spec, lake, ds)
    except (BadLandingFile, BadLabels, LandingInTheFuture, DataValidationError) as exc:
        error = exc

    expected_error = {"ingest": BadLandingFile, "validate": DataValidationError, "labels": BadLabels,
                      "future": LandingInTheFuture}.get(outcome)
    if expected_error is None:
        assert error is None, f"{name} should pass: {error}"
    else:
        assert isinstance(error, expected_error), f"{name}: expected {expected_error.__name__}, got {error!r}"
        assert message in str(error), str(error)

    # The bytes that arrived are kept: in raw/ under their hash, or (refused before ingest) in landing/.
    if outcome == "future":
        assert (lake.landing_dir(spec.name, FUTURE) / spec.source.features_file).read_bytes() == path.read_bytes()
        assert lake.partitions("raw", spec.name) == [*HISTORY, DS]
    elif is_labels:
        assert (lake.landing_dir(spec.name, DS) / spec.source.labels_file).read_bytes() == path.read_bytes()
    else:
        raw = lake.partition_metadata("raw", spec.name, DS)
        assert raw["current"]["data_version"] == digest
        kept = lake.partition_dir("raw", spec.name, DS) / raw["current"]["file"]
        assert kept.read_bytes() == path.read_bytes()
        assert len(raw["versions"]) == 2  # the clean delivery is still there too
        if outcome == "ingest":
            assert name in raw["current"]["problem"] or spec.source.features_file in raw["current"]["problem"]
            assert str(kept) in str(error)

    # Nothing partial is ever visible, and a failed delivery leaves the earlier validated partition alone.
    assert not [p.name for p in previous.parent.iterdir() if p.name.startswith(".")]
    assert lake.partitions("validated", spec.name) == [*HISTORY, DS]
    if error is not None:
        assert snapshot(previous) == before
    if outcome == "validate":
        assert isinstance(error, DataValidationError)
        assert error.report_path in str(error)
        rejected = pd.read_parquet(Path(str(error.quarantine_path)) / "rejected.parquet")
        assert rejected["reason"].str.len().gt(0).all()
        if message.startswith("expect_column_values_to_be") and "_between" not in message[:40]:
            assert rejected["reason"].str.contains(message, regex=False).any()
    if outcome == "pass" and not is_labels:
        validated = pd.read_parquet(previous / "data.parquet")
        assert validated["event_date"].eq(DS).all()  # dates normalised to ISO whatever the source wrote
        assert list(validated.columns) == ["customer_id", "event_date", *spec.feature_columns]
        if name == "few_invalid_rows.csv":
            assert result["rows_rejected"] == 3 and result["rows_validated"] == 97
            rejected = pd.read_parquet(lake.require_partition("quarantine", spec.name, DS) / "rejected.parquet")
            assert len(rejected) == 3
            assert rejected["reason"].eq("expect_column_values_to_be_in_set(contract)").all()
        if name == "extra_column.csv":
            report = Path(result["report_json"]).read_text()
            assert "expect_table_columns_to_match_set" in report and result["warnings"] >= 1
    if name == "labels_good.csv":
        labels = pd.read_parquet(lake.require_partition("labels", spec.name, DS) / "labels.parquet")
        assert len(labels) == 100 and labels["event_date"].eq(HISTORY[-1]).all()


def test_labels_for_unknown_ids_are_set_aside_and_the_rest_kept(template: Path, tmp_path: Path) -> None:
    """Unknown ids cannot be used, but they must not block the day's features or its other labels."""
    shutil.copytree(template, tmp_path / "lake")
    lake = Lake(tmp_path / "lake")
    spec = load_spec("churn")
    land(spec, lake, DS, CORPUS / "clean.csv", labels=CORPUS / "labels_unknown_ids.csv")
    result = ingest_landing(spec, lake, DS)
    rejected = pd.read_parquet(lake.report_dir(spec.name, "labels", DS) / "rejected_labels.parquet")
    kept = pd.read_parquet(lake.require_partition("labels", spec.name, DS) / "labels.parquet")
    assert len(rejected) == 3
    assert rejected["reason"].str.contains("3 label(s) for ids that are not in the features", regex=False).all()
    assert result["label_rows"] == len(kept) > 0
    assert not set(kept[spec.id_column]) & set(rejected[spec.id_column])
