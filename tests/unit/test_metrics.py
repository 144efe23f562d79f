"""Every metric is implemented once, in numpy, and equals scikit-learn's definition of it."""

from __future__ import annotations

import numpy as np
import pytest

from ml_lifecycle.metrics import (
    binary_metrics,
    bootstrap_weights,
    calibration_curve,
    classification_metrics,
    paired_difference,
    weighted_metric,
)


def test_numpy_metrics_equal_sklearns() -> None:
    from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score

    rng = np.random.default_rng(0)
    labels = (rng.random(500) < 0.3).astype(int)
    scores = np.round(rng.random(500) * 0.5 + labels * 0.3, 2)  # rounded: many ties
    got = binary_metrics(labels, scores, 0.35)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert got["pr_auc"] == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(labels, scores >= 0.35), abs=1e-12)
    assert got["brier"] == pytest.approx(brier_score_loss(labels, scores), abs=1e-12)
    assert got["rows"] == 500 and got["positive_rate"] == pytest.approx(labels.mean())


def test_single_class_has_no_roc_auc() -> None:
    got = binary_metrics(np.zeros(10), np.linspace(0, 1, 10), 0.5)
    assert got["roc_auc"] is None and got["pr_auc"] is None and got["positive_rate"] == 0.0
    assert binary_metrics(np.array([]), np.array([]), 0.5)["rows"] == 0


def test_classification_metrics_on_a_public_table_scored_by_a_model_built_elsewhere() -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
    from sklearn.metrics import log_loss as sk_log_loss

    X, y = load_breast_cancer(return_X_y=True)
    scores = LogisticRegression(max_iter=5000).fit(X[::2], y[::2]).predict_proba(X[1::2])[:, 1]
    labels = y[1::2]
    got = classification_metrics(labels, scores, 0.5)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert got["pr_auc"] == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(labels, scores >= 0.5), abs=1e-12)
    assert got["brier"] == pytest.approx(brier_score_loss(labels, scores), abs=1e-12)
    assert got["log_loss"] == pytest.approx(sk_log_loss(labels, scores), rel=1e-9)


def test_log_loss_of_certain_wrong_scores_is_finite_as_in_sklearn() -> None:
    from sklearn.metrics import log_loss as sk_log_loss

    labels, scores = np.array([0, 1, 1, 0]), np.array([1.0, 0.0, 1.0, 0.0])
    got = classification_metrics(labels, scores, 0.5)["log_loss"]
    assert np.isfinite(got)
    assert got == pytest.approx(sk_log_loss(labels, scores), rel=1e-6)


def test_classification_metrics_refuse_one_class_naming_the_rows() -> None:
    with pytest.raises(ValueError, match="both classes; the 4 rows have 0 positive"):
        classification_metrics(np.zeros(4), np.linspace(0, 1, 4), 0.5)


def test_weighted_metric_with_unit_weights_is_the_plain_metric_and_bootstrap_counts_add_up() -> None:
    rng = np.random.default_rng(1)
    labels = (rng.random(300) < 0.4).astype(int)
    scores = np.clip(rng.random(300) * 0.6 + labels * 0.3, 0, 1)
    plain = binary_metrics(labels, scores, 0.5)
    for metric in ("roc_auc", "pr_auc", "f1"):  # the metrics a gate can be told to bootstrap
        assert weighted_metric(metric, labels, scores, np.ones((1, 300)), 0.5)[0] == pytest.approx(plain[metric])
    weights = bootstrap_weights(300, 50, seed=7)
    assert weights.shape == (50, 300) and (weights.sum(axis=1) == 300).all()


def test_paired_difference_of_a_model_with_itself_is_zero() -> None:
    rng = np.random.default_rng(2)
    labels = (rng.random(200) < 0.5).astype(int)
    scores = rng.random(200)
    diff = paired_difference("roc_auc", labels, scores, scores, bootstrap_weights(200, 100, 3), 0.5, 0.9)
    assert diff["delta"] == 0 and diff["low"] == 0 and diff["high"] == 0 and diff["resamples"] == 100


def test_calibration_bins_cover_every_row() -> None:
    scores = np.linspace(0, 1, 101)
    curve = calibration_curve((scores > 0.5).astype(int), scores)
    assert sum(b["rows"] for b in curve) == 101
    assert curve[0]["bin_low"] == 0.0 and curve[-1]["bin_high"] == 1.0
