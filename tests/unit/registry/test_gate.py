"""The promotion policy's CI, slice, budget, first-model and force rules; the vectorised bootstrap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from ml_lifecycle.metrics import bootstrap_weights, calibration_curve, paired_difference, weighted_metric
from ml_lifecycle.registry import judge
from ml_lifecycle.spec import PipelineSpec, load_spec


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


def with_gate(spec: PipelineSpec, **changes: Any) -> PipelineSpec:
    return spec.model_copy(update={"gate": spec.gate.model_copy(update=changes)})


def metrics(roc_auc: float, pr_auc: float = 0.6) -> dict[str, float]:
    return {"roc_auc": roc_auc, "pr_auc": pr_auc, "f1": 0.55, "log_loss": 0.45, "brier": 0.15}


def ci(delta: float, low: float, high: float) -> dict[str, Any]:
    return {"delta": delta, "low": low, "high": high, "resamples": 1000, "confidence": 0.95}


def evaluation(candidate: float, champion: float | None, difference: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"candidate_version": "7", "candidate": metrics(candidate),
            "champion_version": "6" if champion is not None else None,
            "champion": metrics(champion) if champion is not None else None, "difference": difference, **extra}


def test_reject_only_when_the_whole_interval_is_below_the_allowed_drop(spec: PipelineSpec) -> None:
    credibly_worse = judge(spec, evaluation(0.78, 0.82, ci(-0.04, -0.06, -0.02)), smoke_test_passed=True)
    assert credibly_worse.decision == "REJECT" and credibly_worse.checks["no_regression"] is False
    assert any("credibly worse" in r and "CI [-0.0600, -0.0200]" in r for r in credibly_worse.reasons)
    noisy = judge(spec, evaluation(0.80, 0.82, ci(-0.02, -0.05, 0.01)), smoke_test_passed=True)
    assert noisy.decision == "HOLD" and noisy.checks["no_regression"] is True


def test_promote_when_at_least_as_good_and_credible_improvement_is_optional(spec: PipelineSpec) -> None:
    case = evaluation(0.83, 0.82, ci(0.01, -0.005, 0.025))
    assert judge(spec, case, smoke_test_passed=True).decision == "PROMOTE"
    strict = judge(with_gate(spec, require_credible_improvement=True), case, smoke_test_passed=True)
    assert strict.decision == "HOLD" and any("not credibly better" in r for r in strict.reasons)


def slice_entry(name: str, rows: int, diff: dict[str, Any]) -> dict[str, Any]:
    return {"slice": name, "rows": rows, "positives": rows // 4, "difference": diff}


def test_a_slice_credibly_worse_beyond_its_budget_is_rejected_and_named(spec: PipelineSpec) -> None:
    slices = [slice_entry("contract=One year", 300, ci(-0.20, -0.30, -0.10)),
              slice_entry("contract=Two year", 300, ci(0.01, -0.02, 0.04)),
              slice_entry("senior_citizen=1", 20, ci(-0.40, -0.60, -0.20))]  # too small to be judged
    verdict = judge(spec, evaluation(0.83, 0.82, ci(0.01, 0.0, 0.02), slices=slices), smoke_test_passed=True)
    assert verdict.decision == "REJECT"
    failed = [k for k, ok in verdict.checks.items() if not ok]
    assert failed == ["slice_contract=One year"]
    assert any(r.startswith("slice contract=One year") for r in verdict.reasons)
    assert any("too small or one-class: senior_citizen=1" in r for r in verdict.reasons)


@pytest.mark.parametrize(("extra", "check"), [
    ({"latency": {"rows": 10000, "predict_ms": 9000.0}}, "latency_budget"),  # budget: 5000 ms
    ({"model_bytes": 9_000_000}, "size_budget"),
])
def test_latency_and_size_budgets(spec: PipelineSpec, extra: dict[str, Any], check: str) -> None:
    verdict = judge(spec, evaluation(0.83, None, **extra), smoke_test_passed=True)
    assert verdict.decision == "REJECT" and verdict.checks[check] is False


def test_first_model_rule(spec: PipelineSpec) -> None:
    ok = {"latency": {"rows": 10000, "predict_ms": 50.0}, "model_bytes": 1_000_000}
    assert judge(spec, evaluation(0.8, None, **ok), smoke_test_passed=True).decision == "PROMOTE"
    held = judge(with_gate(spec, first_model="hold"), evaluation(0.8, None, **ok), smoke_test_passed=True)
    assert held.decision == "HOLD" and all(held.checks.values())


def test_a_force_is_recorded_and_cannot_override_a_failed_smoke_test(spec: PipelineSpec) -> None:
    case = evaluation(0.78, 0.82, ci(-0.04, -0.06, -0.02))
    forced = judge(spec, case, smoke_test_passed=True, force_reason="incident 42: champion is broken")
    assert forced.decision == "PROMOTE" and forced.forced and forced.judged_decision == "REJECT"
    assert forced.force_reason == "incident 42: champion is broken"
    assert any(r.startswith("FORCED") for r in forced.reasons)
    refused = judge(spec, case, smoke_test_passed=False, force_reason="incident 42: champion is broken")
    assert refused.decision == "REJECT" and not refused.forced


# ---- the bootstrap -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 600)
    good = np.round(np.clip(rng.random(600) * 0.6 + labels * 0.3, 0, 1), 2)  # rounded: plenty of ties
    noise = rng.random(600)
    return labels, good, noise


@pytest.mark.parametrize(("metric", "reference"), [
    ("roc_auc", roc_auc_score), ("pr_auc", average_precision_score),
    ("f1", lambda y, s: f1_score(y, s >= 0.5)),
])
def test_weighted_metric_equals_sklearn_on_the_resampled_rows(scored, metric, reference) -> None:
    labels, scores, _ = scored
    weights = bootstrap_weights(len(labels), 5, seed=1)
    values = weighted_metric(metric, labels, scores, weights, 0.5)
    for row, value in zip(weights, values, strict=True):
        assert value == pytest.approx(reference(np.repeat(labels, row), np.repeat(scores, row)))


def test_paired_difference_is_seeded_and_brackets_the_estimate(scored) -> None:
    labels, good, noise = scored
    weights = bootstrap_weights(len(labels), 500, seed=42)
    first = paired_difference("roc_auc", labels, good, noise, weights, 0.5, 0.95)
    again = paired_difference("roc_auc", labels, good, noise, bootstrap_weights(len(labels), 500, seed=42), 0.5, 0.95)
    assert first == again
    assert first["low"] < first["delta"] < first["high"] and first["low"] > 0  # credibly better than noise
    assert first["delta"] == pytest.approx(roc_auc_score(labels, good) - roc_auc_score(labels, noise), abs=1e-6)


def test_calibration_bins_cover_every_row(scored) -> None:
    labels, good, _ = scored
    curve = calibration_curve(labels, good)
    assert sum(b["rows"] for b in curve) == len(labels)
    assert all(0 <= b["observed_rate"] <= 1 and b["bin_low"] <= b["mean_score"] <= b["bin_high"] for b in curve)
