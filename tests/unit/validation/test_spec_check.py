"""``validate-spec``: a mistake in a spec, its suite or against its data is named by file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ml_lifecycle.cli import main
from ml_lifecycle.spec import spec_json_schema, spec_path
from ml_lifecycle.validation import check_pipeline

SCHEMA_FILE = spec_path("churn").parent / "pipeline.schema.json"


def variant(tmp_path: Path, pipeline: str, change) -> Path:
    raw = yaml.safe_load(spec_path(pipeline).read_text())
    change(raw)
    path = tmp_path / f"{pipeline}-variant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize("pipeline", ["churn", "credit"])
def test_shipped_pipelines_are_ready(pipeline):
    assert check_pipeline(pipeline) == []


def test_unknown_feature_is_named(tmp_path):
    path = variant(tmp_path, "credit", lambda r: r["features"]["numeric"].append("Incomee"))
    problems = check_pipeline(str(path))
    assert any("features.numeric: 'Incomee' is not a column of the data" in p for p in problems), problems


def test_target_missing_from_the_data_is_named(tmp_path):
    path = variant(tmp_path, "credit", lambda r: r["target"].update(column="Defaulted"))
    assert any("target.column: 'Defaulted' is not a column of the data" in p for p in check_pipeline(str(path)))


def test_positive_class_not_in_the_data_is_named(tmp_path):
    path = variant(tmp_path, "churn", lambda r: r["target"].update(positive_class="yes"))
    problems = check_pipeline(str(path))
    assert any("target.positive_class: 'yes' is not a value of churn (values: No, Yes)" in p for p in problems)


def test_bad_threshold_is_named(tmp_path):
    path = variant(tmp_path, "credit", lambda r: r.update(decision_threshold=0))
    [problem] = check_pipeline(str(path))
    assert str(path) in problem and "decision_threshold" in problem


def test_suite_checking_an_undeclared_column_is_named(tmp_path):
    suite = json.loads(spec_path("credit").parent.parent.joinpath("expectations", "credit.json").read_text())
    suite["expectations"].append({"type": "expect_column_to_exist", "kwargs": {"column": "Nickname"},
                                  "meta": {"severity": "error"}})
    suite_path = tmp_path / "credit-suite.json"
    suite_path.write_text(json.dumps(suite))
    path = variant(tmp_path, "credit", lambda r: r.update(expectations=str(suite_path)))
    assert any("'Nickname', which the spec does not declare" in p for p in check_pipeline(str(path)))


def test_cli_exit_code_and_output(tmp_path, capsys):
    assert main(["validate-spec", "churn", "credit"]) == 0
    bad = variant(tmp_path, "credit", lambda r: r["features"]["categorical"].append("Colour"))
    assert main(["validate-spec", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "ok   churn" in out and f"FAIL {bad}" in out and "features.categorical: 'Colour'" in out


def test_committed_json_schema_is_current():
    assert json.loads(SCHEMA_FILE.read_text()) == spec_json_schema(), (
        "include/pipelines/pipeline.schema.json is stale: regenerate it with "
        "`uv run ml-lifecycle spec-schema > include/pipelines/pipeline.schema.json`"
    )
