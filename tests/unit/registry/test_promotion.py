"""The promotion gate (pure), then a real MLflow round trip: train, evaluate, judge and move the aliases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml_lifecycle.exceptions import ChampionMoved
from ml_lifecycle.lake import Lake
from ml_lifecycle.registry import (
    Verdict,
    apply_verdict,
    evaluate_candidate,
    judge,
    nominate_challenger,
    smoke_test,
)
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import LABEL, REFERENCE_ARTIFACT, assemble_window, smoke_sample, train_and_register
from support import local_tracking, validated_lake

START = date(2024, 5, 1)
DAYS = 6


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


def with_changes(spec: PipelineSpec, *, gate: dict[str, Any] | None = None,
                 model: dict[str, Any] | None = None) -> PipelineSpec:
    update: dict[str, Any] = {}
    if gate:
        update["gate"] = spec.gate.model_copy(update=gate)
    if model:
        update["model"] = spec.model.model_copy(update=model)
    return spec.model_copy(update=update)


# ---- judge(): the gate's rules, without MLflow ---------------------------------------------------
# The churn spec: floors roc_auc 0.70 and pr_auc 0.40, primary roc_auc, max_regression 0.01.


def metrics(roc_auc: float, pr_auc: float = 0.6) -> dict[str, float]:
    return {"roc_auc": roc_auc, "pr_auc": pr_auc, "f1": 0.55, "log_loss": 0.45, "brier": 0.15}


def evaluation(candidate: dict[str, float], champion: dict[str, float] | None = None) -> dict[str, Any]:
    return {
        "model_name": "churn_classifier",
        "candidate_version": "7",
        "candidate": candidate,
        "champion_version": "6" if champion is not None else None,
        "champion": champion,
    }


def test_first_model_is_judged_on_floors_only(spec: PipelineSpec) -> None:
    verdict = judge(spec, evaluation(metrics(0.71, 0.41)), smoke_test_passed=True)
    assert verdict.decision == "PROMOTE"
    assert verdict.candidate_version == "7" and verdict.champion_version is None
    assert verdict.checks == {"floor_pr_auc": True, "floor_roc_auc": True, "smoke_test": True}
    assert any("no champion yet" in r for r in verdict.reasons)


@pytest.mark.parametrize(("roc_auc", "pr_auc", "missed"), [(0.69, 0.6, "roc_auc"), (0.85, 0.39, "pr_auc")])
def test_a_floor_miss_is_rejected_naming_the_metric(
    spec: PipelineSpec, roc_auc: float, pr_auc: float, missed: str
) -> None:
    verdict = judge(spec, evaluation(metrics(roc_auc, pr_auc)), smoke_test_passed=True)
    assert verdict.decision == "REJECT"
    assert verdict.checks[f"floor_{missed}"] is False
    assert any(r.startswith(missed) and "below the floor" in r for r in verdict.reasons)


def test_a_floor_miss_is_rejected_even_when_better_than_the_champion(spec: PipelineSpec) -> None:
    verdict = judge(spec, evaluation(metrics(0.69), champion=metrics(0.65)), smoke_test_passed=True)
    assert verdict.decision == "REJECT"
    assert verdict.checks["no_regression"] is True and verdict.checks["floor_roc_auc"] is False


def test_a_regression_beyond_the_tolerance_is_rejected(spec: PipelineSpec) -> None:
    verdict = judge(spec, evaluation(metrics(0.80), champion=metrics(0.82)), smoke_test_passed=True)
    assert verdict.decision == "REJECT"
    assert verdict.checks["no_regression"] is False
    assert verdict.champion_version == "6"
    assert any("vs champion v6" in r and "-0.0200" in r for r in verdict.reasons)


def test_worse_but_within_the_tolerance_is_held(spec: PipelineSpec) -> None:
    verdict = judge(spec, evaluation(metrics(0.815), champion=metrics(0.82)), smoke_test_passed=True)
    assert verdict.decision == "HOLD"
    assert all(verdict.checks.values())
    assert any("not better than the champion" in r for r in verdict.reasons)


def test_a_better_model_is_promoted(spec: PipelineSpec) -> None:
    verdict = judge(spec, evaluation(metrics(0.83), champion=metrics(0.82)), smoke_test_passed=True)
    assert verdict.decision == "PROMOTE"
    assert verdict.checks["no_regression"] is True


@pytest.mark.parametrize("champion", [None, metrics(0.70)])
def test_a_failed_smoke_test_is_rejected(spec: PipelineSpec, champion: dict[str, float] | None) -> None:
    verdict = judge(spec, evaluation(metrics(0.9, 0.8), champion=champion), smoke_test_passed=False)
    assert verdict.decision == "REJECT"
    assert verdict.checks["smoke_test"] is False
    assert any("smoke test" in r for r in verdict.reasons)


def test_the_tolerance_comes_from_the_spec(spec: PipelineSpec) -> None:
    lenient = with_changes(spec, gate={"max_regression": 0.05})
    strict = with_changes(spec, gate={"max_regression": 0.0})
    case = evaluation(metrics(0.79), champion=metrics(0.82))
    assert judge(lenient, case, smoke_test_passed=True).decision == "HOLD"
    assert judge(strict, case, smoke_test_passed=True).decision == "REJECT"
    assert judge(spec, case, smoke_test_passed=True).decision == "REJECT"


# ---- a real MLflow round trip ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(spec: PipelineSpec, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return validated_lake(spec, tmp_path_factory.mktemp("lake"), start=START, days=DAYS, label_delay_days=2,
                          seed=5)[0]


@pytest.fixture(scope="module")
def window(spec: PipelineSpec, lake: Lake) -> dict[str, Any]:
    return assemble_window(spec, lake, (START + timedelta(days=DAYS - 1)).isoformat())


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return local_tracking(tmp_path_factory.mktemp("mlflow"))


def shuffled_labels(window: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A copy of the window whose training labels are shuffled: a model that learned nothing real."""
    train = pd.read_parquet(window["train_path"])
    train[LABEL] = np.random.default_rng(0).permutation(train[LABEL].to_numpy())
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / "train.parquet", index=False)
    return {**window, "train_path": str(folder / "train.parquet")}


class Step:
    """What one candidate went through, with the registry's state right after the verdict was applied."""

    def __init__(self, trained: dict[str, Any], aliases_after_nomination: dict[str, str]) -> None:
        self.trained = trained
        self.aliases_after_nomination = aliases_after_nomination
        self.evaluation: dict[str, Any] = {}
        self.smoke: tuple[bool, str] = (False, "")
        self.verdict: Verdict | None = None
        self.applied: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}
        self.tags: dict[str, dict[str, str]] = {}


LINEAGE = {
    "weak": {"airflow.dag_id": "churn_training", "airflow.run_id": "manual__weak", "airflow.try_number": "1"},
    "strong": {"airflow.dag_id": "churn_training", "airflow.run_id": "scheduled__strong", "airflow.try_number": "2"},
    "shuffled": {"airflow.dag_id": "churn_training", "airflow.run_id": "manual__shuffled", "airflow.try_number": "1"},
}


@pytest.fixture(scope="module")
def history(spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Step]:
    """v1 a deliberately weak model (first: promoted on floors), v2 the spec's model (better: promoted),
    v3 trained on shuffled labels (refused), then v1 judged again against v2 with a lenient tolerance (held)."""
    client = target.activate()
    name = spec.model.registered_name
    reports = tmp_path_factory.mktemp("reports")
    sample = smoke_sample(spec, window["holdout_path"])

    def aliases() -> dict[str, str]:
        return {a: str(v) for a, v in client.get_registered_model(name).aliases.items()}

    def judge_and_apply(step: Step, gate_spec: PipelineSpec, version: str, lineage: dict[str, str]) -> None:
        step.evaluation = evaluate_candidate(gate_spec, target, candidate_version=version,
                                             holdout_path=window["holdout_path"], report_dir=reports / version)
        step.smoke = smoke_test(gate_spec, target, version, sample)
        step.verdict = judge(gate_spec, step.evaluation, smoke_test_passed=step.smoke[0])
        step.applied = apply_verdict(gate_spec, target, step.verdict, actor="unit-test", lineage=lineage)
        step.aliases = aliases()
        step.tags = {str(mv.version): dict(mv.tags) for mv in client.search_model_versions(f"name='{name}'")}

    weak_spec = with_changes(spec, model={"params": {"max_iter": 3, "max_leaf_nodes": 3}})
    steps: dict[str, Step] = {}
    for key, train_spec, train_window in (
        ("weak", weak_spec, window),
        ("strong", spec, window),
        ("shuffled", spec, shuffled_labels(window, tmp_path_factory.mktemp("shuffled"))),
    ):
        trained = train_and_register(train_spec, train_window, target, LINEAGE[key])
        # the gate's first act (registry.judge_candidate), the one place that moves `challenger` to a candidate
        nominate_challenger(spec, target, trained["version"], actor="unit-test", lineage=LINEAGE[key])
        steps[key] = Step(trained, aliases())
        judge_and_apply(steps[key], spec, trained["version"], LINEAGE[key])

    steps["held"] = Step(steps["weak"].trained, aliases())
    lenient = with_changes(spec, gate={"max_regression": 0.2, "slice_max_regression": 0.5})
    judge_and_apply(steps["held"], lenient, steps["weak"].trained["version"], {"airflow.run_id": "manual__held"})
    return steps


def test_versions_are_registered_in_order_and_nominated_as_challenger(history: dict[str, Step]) -> None:
    assert [history[k].trained["version"] for k in ("weak", "strong", "shuffled")] == ["1", "2", "3"]
    assert history["weak"].aliases_after_nomination == {"challenger": "1"}
    assert history["strong"].aliases_after_nomination == {"champion": "1", "challenger": "2"}
    assert history["shuffled"].aliases_after_nomination == {"champion": "2", "challenger": "3"}


def test_first_model_is_promoted_and_tagged(history: dict[str, Step]) -> None:
    step = history["weak"]
    assert step.verdict is not None and step.verdict.decision == "PROMOTE"
    assert step.evaluation["champion"] is None and step.verdict.champion_version is None
    assert step.smoke == (True, "ok")
    assert step.aliases == {"champion": "1"}  # the challenger alias moved on with the promotion
    tags = step.tags["1"]
    assert tags["gate.decision"] == "PROMOTE"
    assert tags["champion.previous"] == "none"
    assert tags["champion.promoted_by"] == "unit-test"
    assert tags["promotion.airflow.run_id"] == "manual__weak"
    since = datetime.fromisoformat(tags["champion.since"])
    assert since.tzinfo is not None and abs(datetime.now(UTC) - since) < timedelta(minutes=10)
    assert step.applied == {
        "decision": "PROMOTE", "candidate_version": "1", "champion_version": "1", "previous_champion": None,
        "reasons": step.verdict.reasons,
    }


def test_a_better_model_replaces_the_champion(history: dict[str, Step]) -> None:
    step = history["strong"]
    assert step.evaluation["champion_version"] == "1"
    assert step.evaluation["candidate"]["roc_auc"] > step.evaluation["champion"]["roc_auc"]
    assert step.verdict is not None and step.verdict.decision == "PROMOTE"
    assert step.aliases == {"champion": "2"}
    assert step.tags["2"]["champion.previous"] == "1"
    assert step.tags["2"]["gate.decision"] == "PROMOTE"
    assert datetime.fromisoformat(step.tags["1"]["champion.until"]) >= datetime.fromisoformat(
        step.tags["1"]["champion.since"]
    )
    assert step.applied["previous_champion"] == "1" and step.applied["champion_version"] == "2"


def test_a_model_trained_on_shuffled_labels_is_refused_and_the_champion_stays(
    spec: PipelineSpec, history: dict[str, Step]
) -> None:
    step = history["shuffled"]
    assert step.evaluation["candidate"]["roc_auc"] < 0.62  # no better than chance, give or take
    assert step.evaluation["champion_version"] == "2"
    assert step.verdict is not None and step.verdict.decision == "REJECT"
    assert step.verdict.checks["floor_roc_auc"] is False and step.verdict.checks["no_regression"] is False
    assert step.aliases == {"champion": "2", "challenger": "3"}
    assert step.tags["3"]["gate.decision"] == "REJECT"
    assert "below the floor" in step.tags["3"]["gate.reasons"]
    assert not any(k.startswith("champion.") for k in step.tags["3"])
    assert step.applied["champion_version"] == "2" and step.applied["decision"] == "REJECT"


def test_a_held_model_leaves_the_champion_where_it_was(history: dict[str, Step]) -> None:
    step = history["held"]
    assert step.evaluation["champion_version"] == "2"
    assert step.verdict is not None and step.verdict.decision == "HOLD"
    assert step.aliases == {"champion": "2", "challenger": "3"}
    assert step.tags["1"]["gate.decision"] == "HOLD"
    assert step.tags["2"]["gate.decision"] == "PROMOTE"
    assert step.applied["champion_version"] == "2"


def test_version_and_run_tags_carry_lineage_and_data_versions(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step]
) -> None:
    step = history["strong"]
    tags = step.tags["2"]
    for key, value in LINEAGE["strong"].items():
        assert tags[key] == value
    assert tags["pipeline"] == spec.name
    assert tags["spec_hash"] == spec.spec_hash
    assert tags["training_as_of"] == window["as_of"]
    assert tags["data_partitions"] == ",".join(window["partitions"])
    assert tags["data_versions"] == ",".join(f"{d}:{v[:12]}" for d, v in sorted(window["data_versions"].items()))
    assert tags["train_rows"] == str(window["train_rows"])
    assert tags["run_id"] == step.trained["run_id"]
    assert "lib.sklearn" in tags and "lib.mlflow" in tags

    run = target.activate().get_run(step.trained["run_id"])
    for key, value in LINEAGE["strong"].items():
        assert run.data.tags[key] == value
    assert run.data.params["family"] == spec.model.family
    # Both models' holdout metrics are on the candidate's run, as evaluate_candidate computed them.
    assert run.data.metrics["holdout_roc_auc"] == pytest.approx(step.evaluation["candidate"]["roc_auc"])
    assert run.data.metrics["champion_holdout_roc_auc"] == pytest.approx(step.evaluation["champion"]["roc_auc"])


def test_the_champion_alias_serves_the_promoted_model(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step]
) -> None:
    import mlflow

    target.activate()
    sample = smoke_sample(spec, window["holdout_path"])
    name = spec.model.registered_name
    by_alias = mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(sample)
    by_version = mlflow.sklearn.load_model(f"models:/{name}/2").predict_proba(sample)
    np.testing.assert_array_equal(by_alias, by_version)


def test_the_reference_sample_and_evaluation_report_are_logged(
    spec: PipelineSpec, target: TrackingTarget, history: dict[str, Step]
) -> None:
    import mlflow

    target.activate()
    run_id = history["strong"].trained["run_id"]
    reference = pd.read_parquet(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=REFERENCE_ARTIFACT))
    assert list(reference.columns) == [spec.id_column, *spec.feature_columns, "score"]
    assert reference["score"].between(0, 1).all()
    report = Path(history["strong"].evaluation["report_path"])
    assert report.is_file()
    logged = [a.path for a in target.activate().list_artifacts(run_id, "evaluation")]
    assert logged == ["evaluation/calibration.json", "evaluation/evaluation.json"]


def test_champion_metrics_belong_to_the_reported_champion_version(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ml_lifecycle.registry.evaluation as evaluation_module

    # The alias is on v2, but the champion was v1 when it was looked up (a rollback raced the evaluation).
    weak = history["weak"].trained
    monkeypatch.setattr(evaluation_module, "champion_version",
                        lambda *_: {"version": weak["version"], "run_id": weak["run_id"]})
    result = evaluate_candidate(spec, target, candidate_version="3", holdout_path=window["holdout_path"])
    assert result["champion_version"] == "1"
    assert result["champion"] == pytest.approx(history["weak"].evaluation["candidate"])


def test_smoke_test_fails_for_a_version_that_cannot_be_loaded(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step]
) -> None:
    ok, reason = smoke_test(spec, target, "99", smoke_sample(spec, window["holdout_path"]))
    assert ok is False
    assert reason


def test_a_promotion_judged_against_a_champion_that_has_since_moved_is_refused(
    spec: PipelineSpec, target: TrackingTarget, history: dict[str, Step]
) -> None:
    from ml_lifecycle.registry import Verdict

    client = target.activate()
    name = spec.model.registered_name
    before = str(client.get_model_version_by_alias(name, "champion").version)
    # Judged against v1, but the champion is v2 now (it moved while this candidate was evaluated).
    stale = Verdict("PROMOTE", ["better"], candidate_version="3", champion_version="1")
    with pytest.raises(ChampionMoved, match="judged against v1"):
        apply_verdict(spec, target, stale, actor="unit-test", lineage={})
    assert str(client.get_model_version_by_alias(name, "champion").version) == before == "2"


def test_the_evaluation_report_is_a_complete_report_folder(history: dict[str, Step]) -> None:
    report = Path(history["strong"].evaluation["report_path"])
    assert (report.parent / "_SUCCESS").is_file()
    assert json.loads(report.read_text())["candidate_version"] == history["strong"].trained["version"]


# ---- the slice rule on a real model, rollback and the alias history, lineage, model card, skops --------


def slice_shuffled(spec: PipelineSpec, window: dict[str, Any], folder: Path, column: str, value: Any) -> dict[str, Any]:
    """A copy of the window whose training labels are shuffled inside one slice only."""
    train = pd.read_parquet(window["train_path"])
    rows = (train[column] == value).to_numpy()
    train.loc[rows, LABEL] = np.random.default_rng(1).permutation(train.loc[rows, LABEL].to_numpy())
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / "train.parquet", index=False)
    return {**window, "train_path": str(folder / "train.parquet")}


def test_a_model_worse_only_on_one_slice_is_refused_and_the_champion_stays(
    spec: PipelineSpec, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step],
    tmp_path: Path,
) -> None:
    client = target.activate()
    name = spec.model.registered_name
    # Overall the policy is lenient here, so that only the slice rule can refuse the model.
    gate_spec = with_changes(spec, gate={"max_regression": 0.5, "slice_max_regression": 0.05, "slice_min_rows": 30,
                                         "floors": {}})
    trained = train_and_register(spec, slice_shuffled(spec, window, tmp_path, "internet_service", "Fiber optic"),
                                 target, {"airflow.run_id": "manual__slice"})
    result = evaluate_candidate(gate_spec, target, candidate_version=trained["version"],
                                holdout_path=window["holdout_path"])
    verdict = judge(gate_spec, result, smoke_test_passed=True)
    apply_verdict(gate_spec, target, verdict, actor="unit-test", lineage={})
    assert verdict.decision == "REJECT"
    failed = [k for k, ok in verdict.checks.items() if not ok]
    # Refused by the slice rule alone: overall it passes; slices overlapping the shuffled one may fail too.
    assert "slice_internet_service=Fiber optic" in failed and all(k.startswith("slice_") for k in failed)
    assert verdict.checks["no_regression"] is True
    assert str(client.get_model_version_by_alias(name, "champion").version) == "2"
    assert client.get_model_version(name, trained["version"]).tags["gate.decision"] == "REJECT"


def test_lineage_and_model_card_of_a_version(
    spec: PipelineSpec, lake: Lake, window: dict[str, Any], target: TrackingTarget, history: dict[str, Step]
) -> None:
    from ml_lifecycle.registry import format_lineage, version_lineage, write_model_card

    found = version_lineage(spec, target)  # the champion
    assert found["version"] == "2" and found["gate"]["decision"] == "PROMOTE"
    assert found["data_partitions"] == window["partitions"]
    assert found["validation_summary"].startswith(f"partitions={len(window['partitions'])} rows=")
    assert found["code_version"] and "sklearn" in found["libraries"]
    assert any(e["to_version"] == "2" and e["alias"] == "champion" for e in found["alias_moves"])
    assert "alias moves:" in format_lineage(found)

    step = history["strong"]
    gate = {"decision": step.verdict.decision, "reasons": step.verdict.reasons} if step.verdict else {}
    paths = write_model_card(spec, lake, target, evaluation=step.evaluation, gate=gate)
    text = Path(paths["markdown"]).read_text()
    for heading in ("Intended use", "Owner", "Training window and data versions", "Metrics (holdout)",
                    "Metrics per slice", "Gate verdict", "Known limitations"):
        assert f"## {heading}" in text
    assert "contract=Month-to-month" in text and "<table>" in Path(paths["html"]).read_text()
    assert Path(paths["markdown"]).parent == lake.zone_dir("reports", spec.name) / "model_cards"


def test_rollback_then_repromotion_is_recorded_in_the_alias_history(
    spec: PipelineSpec, target: TrackingTarget, history: dict[str, Step]
) -> None:
    from ml_lifecycle.exceptions import RegistryError
    from ml_lifecycle.registry import alias_history, champion_at, rollback

    client = target.activate()
    name = spec.model.registered_name
    with pytest.raises(RegistryError, match="at least 10 characters"):
        rollback(spec, target, reason="oops", actor="unit-test")
    with pytest.raises(RegistryError, match="rejected by the gate"):
        rollback(spec, target, version="3", reason="try the shuffled one", actor="unit-test")
    before = datetime.now(UTC)
    back = rollback(spec, target, reason="v2 underperforms on live labels", actor="unit-test")
    assert back["action"] == "rollback" and back["previous_champion"] == "2" and back["champion_version"] == "1"
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    forward = rollback(spec, target, version="2", reason="v2 cleared after review", actor="unit-test")
    assert forward["action"] == "repromote" and forward["champion_version"] == "2"

    moves = [(e["from_version"], e["to_version"], e["action"]) for e in alias_history(spec, target)]
    assert moves == [("none", "1", "promote"), ("1", "2", "promote"), ("2", "1", "rollback"), ("1", "2", "repromote")]
    last = alias_history(spec, target)[-1]
    assert last["actor"] == "unit-test" and last["reason"] == "v2 cleared after review"
    assert datetime.fromisoformat(last["at"]) >= before
    assert champion_at(spec, target, datetime.fromisoformat(alias_history(spec, target)[2]["at"])) == "1"
    assert champion_at(spec, target, datetime.now(UTC)) == "2"
    assert champion_at(spec, target, "2000-01-01T00:00:00+00:00") is None
    challenger_moves = alias_history(spec, target, "challenger")
    assert [e["to_version"] for e in challenger_moves if e["action"] == "candidate"][:3] == ["1", "2", "3"]


def test_a_model_with_an_unlisted_type_is_refused_before_logging(spec: PipelineSpec) -> None:
    import operator

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from ml_lifecycle.exceptions import UntrustedModelTypes
    from ml_lifecycle.training import build_pipeline, check_trusted_types

    rows = np.random.default_rng(0).random((20, 2))
    unsafe = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression()).fit(rows, [0, 1] * 10)
    with pytest.raises(UntrustedModelTypes, match=r"_operator\.neg.*SKOPS_TRUSTED"):
        check_trusted_types(unsafe)
    check_trusted_types(build_pipeline(spec))  # our own families pass


def test_an_unreachable_registry_is_an_outage_not_a_failed_smoke_test(spec: PipelineSpec, monkeypatch) -> None:
    """A smoke test that cannot reach MLflow must not REJECT the model: it raises a retryable error."""
    import socket

    from ml_lifecycle.exceptions import RegistryUnavailable
    from ml_lifecycle.registry import unreachable

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = TrackingTarget(tracking_uri=f"http://127.0.0.1:{port}")
    with pytest.raises(RegistryUnavailable, match=f"MLflow at http://127.0.0.1:{port} is unreachable"):
        smoke_test(spec, target, "1", pd.DataFrame({"x": [1]}), alias="challenger")
    assert not unreachable(ValueError("predict returned 3 values for 4 rows"))
