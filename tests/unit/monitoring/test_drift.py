from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_lifecycle.lake import DRIFT_HTML, DRIFT_JSON
from ml_lifecycle.monitoring import DriftResult, check_drift
from ml_lifecycle.spec import PipelineSpec

NUMERIC = ["tenure", "monthly_charges", "total_charges"]
BINARY = ["senior_citizen", "paperless_billing"]
CATEGORICAL = ["contract", "payment_method"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]
PAYMENTS = ["Electronic check", "Mailed check", "Bank transfer", "Credit card"]


def make_spec(**drift: object) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "name": "churn",
            "id_column": "customer_id",
            "event_date_column": "event_date",
            "target": {"column": "churn", "positive_class": "Yes"},
            "features": {"numeric": NUMERIC, "binary": BINARY, "categorical": CATEGORICAL},
            "model": {"registered_name": "churn_classifier"},
            "drift": {"drift_share": 0.3, **drift},
            "expectations": "expectations/churn.json",
        }
    )


def churn_frame(rows: int, seed: int, *, shifted: bool = False) -> pd.DataFrame:
    """Telco-like rows; ``shifted`` raises charges by half and moves customers to long contracts."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, rows)
    monthly_charges = rng.normal(65.0, 20.0, rows).clip(18.0, 120.0) * (1.5 if shifted else 1.0)
    contract_mix = [0.2, 0.3, 0.5] if shifted else [0.55, 0.25, 0.2]
    payment_mix = [0.1, 0.2, 0.35, 0.35] if shifted else [0.35, 0.25, 0.2, 0.2]
    return pd.DataFrame(
        {
            "customer_id": [f"C{seed}-{i:05d}" for i in range(rows)],
            "event_date": "2024-03-01",
            "tenure": tenure,
            "monthly_charges": monthly_charges,
            "total_charges": monthly_charges * np.maximum(tenure, 1),
            "senior_citizen": rng.binomial(1, 0.16, rows),
            "paperless_billing": rng.binomial(1, 0.6, rows),
            "contract": rng.choice(CONTRACTS, rows, p=contract_mix),
            "payment_method": rng.choice(PAYMENTS, rows, p=payment_mix),
            "score": rng.beta(2.0, 5.0, rows),
        }
    )


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return churn_frame(600, seed=1)


@pytest.fixture(scope="module")
def same_distribution(reference: pd.DataFrame) -> DriftResult:
    return check_drift(make_spec(), reference, churn_frame(400, seed=2))


@pytest.fixture(scope="module")
def shifted(reference: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> DriftResult:
    out_dir = tmp_path_factory.mktemp("drift")
    return check_drift(make_spec(), reference, churn_frame(400, seed=3, shifted=True), out_dir=out_dir)


def test_same_distribution_has_no_dataset_drift(same_distribution: DriftResult) -> None:
    assert same_distribution.dataset_drift is False
    assert same_distribution.drift_share < 0.3
    assert same_distribution.reference_rows == 600
    assert same_distribution.current_rows == 400


def test_shifted_columns_drift_and_make_the_dataset_drift(shifted: DriftResult) -> None:
    assert shifted.dataset_drift is True
    assert {"monthly_charges", "total_charges", "contract", "payment_method"} <= set(shifted.drifted_columns)
    assert not shifted.columns["tenure"]["drifted"]
    assert not shifted.columns["senior_citizen"]["drifted"]
    assert shifted.drift_share == pytest.approx(len(shifted.drifted_columns) / len(shifted.columns))


def test_every_feature_is_tested_and_the_id_column_never(shifted: DriftResult) -> None:
    assert list(shifted.columns) == NUMERIC + BINARY + CATEGORICAL
    assert "customer_id" not in json.dumps(shifted.to_dict())
    assert shifted.json_path is not None
    assert "customer_id" not in Path(shifted.json_path).read_text()


def test_small_reference_uses_p_value_tests_at_their_default_threshold(shifted: DriftResult) -> None:
    methods = {column: verdict["method"] for column, verdict in shifted.columns.items()}
    assert methods["tenure"] == "K-S p_value"
    assert methods["senior_citizen"] == "Z-test p_value"  # a binary flag is tested as a category
    assert methods["contract"] == "chi-square p_value"
    assert {verdict["threshold"] for verdict in shifted.columns.values()} == {0.05}


def test_large_reference_with_configured_threshold_uses_distances() -> None:
    spec = make_spec(feature_threshold=0.1)
    result = check_drift(spec, churn_frame(1500, seed=4), churn_frame(500, seed=5, shifted=True))
    assert result.columns["monthly_charges"]["method"] == "Wasserstein distance (normed)"
    assert result.columns["contract"]["method"] == "Jensen-Shannon distance"
    assert {verdict["threshold"] for verdict in result.columns.values()} == {0.1}
    assert result.columns["monthly_charges"]["drifted"]
    assert not result.columns["tenure"]["drifted"]


def test_verdicts_follow_the_direction_of_each_method(shifted: DriftResult) -> None:
    # Evidently's verdicts, checked against the rule they must follow: p-values drift below the
    # threshold, distances at or above it.
    for column, verdict in shifted.columns.items():
        if "p_value" in verdict["method"]:
            assert verdict["drifted"] == (verdict["score"] < verdict["threshold"]), column
        else:
            assert verdict["drifted"] == (verdict["score"] >= verdict["threshold"]), column


def test_drift_columns_from_the_spec_limit_what_is_tested(reference: pd.DataFrame) -> None:
    spec = make_spec(columns=["tenure", "contract"])
    result = check_drift(spec, reference, churn_frame(400, seed=3, shifted=True))
    assert list(result.columns) == ["tenure", "contract"]
    assert result.drifted_columns == ["contract"]
    assert result.drift_share == pytest.approx(0.5)
    assert result.dataset_drift is True


def test_score_drift_is_reported_apart_from_feature_drift(reference: pd.DataFrame) -> None:
    current = churn_frame(400, seed=2)
    current["score"] = current["score"] ** 0.3  # the model suddenly scores everyone higher
    result = check_drift(make_spec(), reference, current, score_column="score")
    assert result.score_drift is not None
    assert result.score_drift["drifted"] is True
    assert result.score_drift["method"] == "K-S p_value"
    assert "score" not in result.columns
    assert result.dataset_drift is False


def test_missing_score_column_skips_prediction_drift(reference: pd.DataFrame) -> None:
    current = churn_frame(400, seed=2).drop(columns=["score"])
    result = check_drift(make_spec(), reference, current, score_column="score")
    assert result.score_drift is None


def test_to_dict_holds_only_plain_python_values(shifted: DriftResult) -> None:
    as_dict = shifted.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    for verdict in as_dict["columns"].values():
        assert type(verdict["score"]) is float and math.isfinite(verdict["score"])
        assert type(verdict["threshold"]) is float
        assert type(verdict["drifted"]) is bool
    assert type(as_dict["drift_share"]) is float
    assert type(as_dict["dataset_drift"]) is bool


def test_reports_are_written_to_out_dir(shifted: DriftResult) -> None:
    assert shifted.html_path is not None and shifted.json_path is not None
    html_path, json_path = Path(shifted.html_path), Path(shifted.json_path)
    assert html_path.name == DRIFT_HTML and json_path.name == DRIFT_JSON
    assert html_path.stat().st_size > 10_000
    assert "<html" in html_path.read_text(encoding="utf-8").lower()
    written = json.loads(json_path.read_text())
    assert written["dataset_drift"] is True
    assert written["drifted_columns"] == shifted.drifted_columns
    assert written["html_path"] == DRIFT_HTML  # relative: the folder is renamed when published
    assert {"metrics", "tests"} <= set(written["evidently"])
    assert not [p.name for p in json_path.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_without_out_dir_nothing_is_written(same_distribution: DriftResult) -> None:
    assert same_distribution.html_path is None
    assert same_distribution.json_path is None


def test_string_columns_with_values_seen_on_one_side_only(reference: pd.DataFrame) -> None:
    current = churn_frame(400, seed=2)
    current.loc[current.index[:150], "payment_method"] = "Crypto"  # a category the reference never had
    result = check_drift(make_spec(), reference, current)
    assert result.columns["payment_method"]["drifted"]
    assert not result.columns["contract"]["drifted"]


def test_missing_drift_column_is_named_with_its_frame(reference: pd.DataFrame) -> None:
    current = churn_frame(100, seed=2).drop(columns=["contract", "tenure"])
    with pytest.raises(ValueError, match=r"missing from the current frame: \['tenure', 'contract'\]"):
        check_drift(make_spec(), reference, current)
    with pytest.raises(ValueError, match=r"missing from the reference frame: \['tenure', 'contract'\]"):
        check_drift(make_spec(), current, reference)


def test_empty_current_frame_is_refused(reference: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="current frame, but it is empty"):
        check_drift(make_spec(), reference, reference.iloc[0:0])


def test_non_numeric_values_in_a_numeric_column_are_refused(reference: pd.DataFrame) -> None:
    current = churn_frame(100, seed=2)
    current["total_charges"] = current["total_charges"].astype(str)
    current.loc[current.index[0], "total_charges"] = " "  # the telco file's blank total for new customers
    with pytest.raises(ValueError, match="'total_charges' in the current frame is not numeric"):
        check_drift(make_spec(), reference, current)


# ---- PSI and per-column thresholds -------------------------------------------------------------------
def test_psi_is_reported_for_every_column_and_the_score(reference: pd.DataFrame) -> None:
    current = churn_frame(400, seed=3, shifted=True)
    result = check_drift(make_spec(), reference, current, score_column="score")
    assert list(result.psi) == [*NUMERIC, *BINARY, *CATEGORICAL, "score"]
    assert result.psi["monthly_charges"] > 0.2 and result.psi["contract"] > 0.2
    assert result.psi["tenure"] < 0.1 and result.psi["senior_citizen"] < 0.1
    assert {"monthly_charges", "contract"} <= set(result.psi_flagged)
    assert "tenure" not in result.psi_flagged
    as_dict = result.to_dict()
    assert all(type(v) is float for v in as_dict["psi"].values())


def test_psi_definition() -> None:
    from ml_lifecycle.monitoring import population_stability_index
    from ml_lifecycle.monitoring.drift_statistics import PSI_EPSILON

    same = pd.Series(np.arange(1000, dtype=float))
    assert population_stability_index(same, same, numeric=True) == pytest.approx(0.0)
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert population_stability_index(ref, cur, numeric=False) == pytest.approx(expected)
    new_category = population_stability_index(ref, pd.Series(["c"] * 100), numeric=False)
    assert np.isfinite(new_category) and new_category > 5  # epsilon keeps an empty bin finite
    assert PSI_EPSILON > 0
    shifted = population_stability_index(same, same + 500, numeric=True)  # half the values above every edge
    assert shifted > 1.0


def test_per_column_threshold_reaches_evidently(reference: pd.DataFrame) -> None:
    spec = make_spec(per_column_threshold={"tenure": 0.9, "contract": 1e-300})
    result = check_drift(spec, reference, churn_frame(400, seed=2))
    assert result.columns["tenure"]["threshold"] == 0.9 and result.columns["tenure"]["drifted"]  # p < 0.9
    assert result.columns["contract"]["threshold"] == 1e-300 and not result.columns["contract"]["drifted"]
    assert result.columns["monthly_charges"]["threshold"] == 0.05


def test_per_column_threshold_must_name_drift_columns() -> None:
    with pytest.raises(ValueError, match=r"per_column_threshold names columns that are not drift columns: \['nope'\]"):
        make_spec(per_column_threshold={"nope": 0.1})


# ---- large inputs: our numpy verdicts against Evidently's ------------------------------------------
def make_wide_spec(**drift: object) -> PipelineSpec:
    """The churn spec plus a numeric column with few values (Evidently tests it like a category)."""
    spec = make_spec(**drift)
    features = spec.features.model_copy(update={"numeric": [*NUMERIC, "support_calls"]})
    return spec.model_copy(update={"features": features})


@pytest.fixture(scope="module")
def medium_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3,000 vs 2,500 rows: shifted columns, NaNs on either side, a category only the current side has."""
    reference = churn_frame(3000, seed=11)
    current = churn_frame(2500, seed=12, shifted=True)
    for frame, seed, calls in ((reference, 21, [0.4, 0.3, 0.2, 0.1]), (current, 22, [0.2, 0.2, 0.3, 0.3])):
        frame["support_calls"] = np.random.default_rng(seed).choice([0, 1, 2, 3], len(frame), p=calls)
    reference.loc[reference.index[::7], "monthly_charges"] = np.nan
    reference.loc[reference.index[::11], "contract"] = None
    current.loc[current.index[::5], "tenure"] = np.nan
    current.loc[current.index[:300], "payment_method"] = "Crypto"
    # Evidently drops infinite values like NaNs (its drifted-columns count only when the column also has a NaN).
    current.loc[current.index[:40], "total_charges"] = np.inf
    current.loc[current.index[40:45], "total_charges"] = np.nan
    return reference, current


@pytest.mark.parametrize(
    "drift", [{}, {"feature_threshold": 0.05, "per_column_threshold": {"tenure": 0.02, "contract": 0.3}}]
)
def test_numpy_path_matches_evidently(medium_pair: tuple[pd.DataFrame, pd.DataFrame], drift: dict) -> None:
    reference, current = medium_pair
    evidently = check_drift(make_wide_spec(**drift), reference, current, score_column="score")
    ours = check_drift(make_wide_spec(exact_rows_limit=1000, **drift), reference, current, score_column="score")
    assert (evidently.method_source, ours.method_source) == ("evidently", "numpy")
    assert evidently.columns["support_calls"]["method"] == "Jensen-Shannon distance"  # <= 5 values
    assert evidently.columns["tenure"]["method"] == "Wasserstein distance (normed)"
    assert evidently.columns["payment_method"]["method"] == "Jensen-Shannon distance"
    assert list(ours.columns) == list(evidently.columns)
    assert ours.score_drift is not None and evidently.score_drift is not None
    pairs = [*((ours.columns[c], evidently.columns[c]) for c in evidently.columns), (ours.score_drift, evidently.score_drift)]
    for mine, theirs in pairs:
        assert {k: mine[k] for k in ("method", "threshold", "drifted")} == {
            k: theirs[k] for k in ("method", "threshold", "drifted")
        }
        assert mine["score"] == pytest.approx(theirs["score"], rel=1e-9, abs=1e-12)
    assert ours.drifted_columns == evidently.drifted_columns
    assert {"monthly_charges", "total_charges", "support_calls", "payment_method"} <= set(ours.drifted_columns)
    assert (ours.dataset_drift, ours.drift_share) == (evidently.dataset_drift, pytest.approx(evidently.drift_share))
    assert list(ours.psi) == list(evidently.psi)
    for column, value in evidently.psi.items():
        assert ours.psi[column] == pytest.approx(value, rel=1e-9), column


def test_numpy_path_writes_a_labelled_sample_report(
    medium_pair: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml_lifecycle.monitoring.drift_evidently as drift

    monkeypatch.setattr(drift, "REPORT_SAMPLE_ROWS", 1200)
    reference, current = medium_pair
    result = check_drift(make_wide_spec(exact_rows_limit=1000), reference, current, out_dir=tmp_path)
    assert result.method_source == "numpy"
    assert result.report_sample_rows == {"reference": 1200, "current": 1200}
    assert result.reference_rows == 3000 and result.current_rows == 2500
    written = json.loads((tmp_path / DRIFT_JSON).read_text())
    assert written["method_source"] == "numpy"
    assert written["report_sample_rows"] == {"reference": 1200, "current": 1200}
    assert written["drifted_columns"] == result.drifted_columns
    assert {"metrics", "tests"} <= set(written["evidently"])
    html = (tmp_path / DRIFT_HTML).read_text(encoding="utf-8")
    assert "random sample of 1,200 reference" in html


def test_few_reference_values_leave_the_verdicts_to_evidently(medium_pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, current = medium_pair
    reference = reference.copy()
    reference.loc[reference.index[:2100], "tenure"] = np.nan  # 900 values left: Evidently would use K-S
    result = check_drift(make_wide_spec(exact_rows_limit=1000), reference, current)
    assert result.method_source == "evidently"
    assert result.columns["tenure"]["method"] == "K-S p_value"
    assert result.report_sample_rows is None
