"""Every metric the project reports, implemented once, in numpy (equal to scikit-learn's definitions).

Evaluation, realized performance, the gate's bootstrap, shadow agreement and the benchmarks all call
these; a daily task does not pay scikit-learn's import for a few formulas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.contracts import CalibrationBin, ClassificationMetrics, PairedDifference

if TYPE_CHECKING:
    import numpy as np

METRICS = ("roc_auc", "pr_auc", "f1", "brier")


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """rows, positives, positive_rate, roc_auc, pr_auc, f1, brier; a metric undefined on the rows is None."""
    import numpy as np

    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=float)
    rows, positives = len(y), int(y.sum())
    if rows == 0:
        return {"rows": 0, "positives": 0, "positive_rate": None, **dict.fromkeys(METRICS)}
    predicted = s >= threshold
    true_pos = int(np.sum(predicted & (y == 1)))
    f1_denominator = int(predicted.sum()) + positives
    return {
        "rows": rows,
        "positives": positives,
        "positive_rate": positives / rows,
        "roc_auc": _roc_auc(y, s) if 0 < positives < rows else None,
        "pr_auc": _average_precision(y, s) if positives > 0 else None,
        "f1": 2.0 * true_pos / f1_denominator if f1_denominator else 0.0,
        "brier": float(np.mean((s - y) ** 2)),
    }


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney U with average ranks for ties (= sklearn's roc_auc_score)."""
    import numpy as np

    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(len(s), dtype=float)
    # Average rank of each run of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def _average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """sum over thresholds of (R_n - R_n-1) * P_n (= sklearn's average_precision_score)."""
    import numpy as np

    order = np.argsort(-s, kind="mergesort")
    sorted_scores, sorted_y = s[order], y[order]
    last_of_threshold = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(s) - 1]
    true_pos = np.cumsum(sorted_y)[last_of_threshold]
    predicted = last_of_threshold + 1
    precision = true_pos / predicted
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))

CALIBRATION_BINS = 10


def log_loss(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mean binary cross-entropy with scores clipped to [eps, 1 - eps] (= sklearn's ``log_loss(labels=[0, 1])``)."""
    import numpy as np

    y = np.asarray(labels, dtype=float)
    p = np.asarray(scores, dtype=float)
    eps = np.finfo(p.dtype).eps
    positive, negative = np.clip(p, eps, 1 - eps), np.clip(1 - p, eps, 1 - eps)
    return float(np.mean(-(y * np.log(positive) + (1 - y) * np.log(negative))))


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> ClassificationMetrics:
    """ROC AUC, PR AUC, F1 at ``threshold``, log loss and Brier score of rows holding both classes."""
    found = binary_metrics(labels, scores, threshold)
    if found["roc_auc"] is None:
        raise ValueError(f"classification metrics need both classes; the {found['rows']} rows have "
                         f"{found['positives']} positive(s)")
    return {"roc_auc": float(found["roc_auc"]), "pr_auc": float(found["pr_auc"]), "f1": float(found["f1"]),
            "log_loss": log_loss(labels, scores), "brier": float(found["brier"])}


def bootstrap_weights(rows: int, resamples: int, seed: int) -> np.ndarray:
    """How often each row is drawn in each resample: a (resamples, rows) matrix of counts."""
    import numpy as np

    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, rows, size=(resamples, rows))
    offsets = (np.arange(resamples) * rows)[:, None]
    return np.bincount((drawn + offsets).ravel(), minlength=resamples * rows).reshape(resamples, rows)


def weighted_metric(metric: str, labels: np.ndarray, scores: np.ndarray, weights: np.ndarray,
                    threshold: float) -> np.ndarray:
    """``metric`` for every row of ``weights`` at once (equal to sklearn's on the resampled rows).

    ROC AUC counts ties as half (Mann-Whitney); PR AUC is average precision over distinct thresholds.
    Resamples without both classes give NaN.
    """
    import numpy as np

    y = labels.astype(bool)
    w = weights.astype("float64")
    if metric == "f1":
        hit = scores >= threshold
        tp = (w * (y & hit)).sum(axis=1)
        fp = (w * (~y & hit)).sum(axis=1)
        fn = (w * (y & ~hit)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])  # groups of tied scores
    pos = np.add.reduceat(w[:, order] * y[order], starts, axis=1)  # (resamples, groups), ascending score
    neg = np.add.reduceat(w[:, order] * ~y[order], starts, axis=1)
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "roc_auc":
            below = np.cumsum(neg, axis=1) - neg
            value = (pos * (below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)
        elif metric == "pr_auc":
            tp = np.cumsum(pos[:, ::-1], axis=1)  # thresholds from the highest score down
            fp = np.cumsum(neg[:, ::-1], axis=1)
            precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            value = (pos[:, ::-1] * precision).sum(axis=1) / total_pos
        else:
            raise ValueError(f"no vectorised bootstrap for {metric!r}")
    return np.where((total_pos > 0) & (total_neg > 0), value, np.nan)


def paired_difference(metric: str, labels: np.ndarray, candidate: np.ndarray, champion: np.ndarray,
                      weights: np.ndarray, threshold: float, confidence: float) -> PairedDifference:
    """Point estimate and percentile interval of metric(candidate) - metric(champion) on the same rows."""
    import numpy as np

    diffs = (weighted_metric(metric, labels, candidate, weights, threshold)
             - weighted_metric(metric, labels, champion, weights, threshold))
    diffs = diffs[np.isfinite(diffs)]
    ones = np.ones((1, len(labels)))
    delta = float((weighted_metric(metric, labels, candidate, ones, threshold)
                   - weighted_metric(metric, labels, champion, ones, threshold))[0])
    if len(diffs) == 0:
        return {"delta": delta, "low": delta, "high": delta, "resamples": 0, "confidence": confidence}
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    return {"delta": round(delta, 6), "low": round(float(low), 6), "high": round(float(high), 6),
            "resamples": int(len(diffs)), "confidence": confidence}


def calibration_curve(labels: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> list[CalibrationBin]:
    """Mean predicted score vs observed positive rate in equal-width score bins (empty bins left out)."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    curve: list[CalibrationBin] = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            curve.append({"bin_low": round(float(edges[b]), 2), "bin_high": round(float(edges[b + 1]), 2),
                          "rows": int(mask.sum()), "mean_score": round(float(scores[mask].mean()), 4),
                          "observed_rate": round(float(labels[mask].mean()), 4)})
    return curve


def agreement_stats(champion: np.ndarray, challenger: np.ndarray, threshold: float) -> dict[str, Any]:
    """Pearson correlation, decision agreement, KS statistic and mean shift (challenger - champion)."""
    import numpy as np
    from scipy.stats import ks_2samp

    n = len(champion)
    if n == 0:
        return {"rows": 0, "pearson": None, "decision_agreement": None, "ks_statistic": None, "mean_shift": None}
    constant = float(np.std(champion)) == 0.0 or float(np.std(challenger)) == 0.0
    return {
        "rows": n,
        "pearson": None if constant else float(np.corrcoef(champion, challenger)[0, 1]),
        "decision_agreement": float(np.mean((champion >= threshold) == (challenger >= threshold))),
        "ks_statistic": float(ks_2samp(champion, challenger).statistic),
        "mean_shift": float(np.mean(challenger) - np.mean(champion)),
        "champion_positive_rate": float(np.mean(champion >= threshold)),
        "challenger_positive_rate": float(np.mean(challenger >= threshold)),
    }
