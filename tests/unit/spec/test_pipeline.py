from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.spec import load_spec, spec_path


def write_variant(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(spec_path("churn").read_text())
    change(raw)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_demo_spec_loads_typed():
    spec = load_spec("churn")
    assert spec.name == "churn"
    assert spec.target.positive_class == "Yes"
    assert "monthly_charges" in spec.features.numeric
    assert "contract" in spec.features.categorical
    assert len(spec.feature_columns) == 19
    assert spec.expectations_path.name == "churn.json"
    assert len(spec.spec_hash) == 16


def test_spec_hash_changes_with_content(tmp_path):
    changed = load_spec(write_variant(tmp_path, lambda r: r.update(decision_threshold=0.4)))
    assert changed.spec_hash != load_spec("churn").spec_hash


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(decision_threshold=1.5), "decision_threshold"),
        (lambda r: r["gate"]["floors"].update(roc_auc=7), "gate.floors"),
        (lambda r: r["model"].update(family="deep_magic"), "model.family"),
        (lambda r: r.pop("target"), "target"),
        (lambda r: r["features"]["numeric"].append("contract"), "features"),
        (lambda r: r.update(unexpected_key=1), "unexpected_key"),
        (lambda r: r["drift"].update(columns=["not_a_feature"]), "not_a_feature"),
        (lambda r: r["features"]["numeric"].append("churn"), "target.column"),
    ],
)
def test_bad_spec_names_the_file_and_the_field(tmp_path, change, field):
    path = write_variant(tmp_path, change)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(path) in str(error.value)
    assert field in str(error.value)


def test_missing_spec_and_bad_yaml(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec("no_such_pipeline")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(broken)


def test_missing_suite_file_is_named(tmp_path):
    path = write_variant(tmp_path, lambda r: r.update(expectations="expectations/missing.json"))
    with pytest.raises(SpecError, match="missing.json"):
        load_spec(path)
