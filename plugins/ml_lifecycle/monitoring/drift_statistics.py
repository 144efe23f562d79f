"""Drift statistics in numpy/scipy: Evidently's default methods and formulas for large inputs, and the PSI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml_lifecycle.monitoring.drift_evidently import _as_numbers

if TYPE_CHECKING:
    import pandas as pd

PSI_EPSILON = 1e-4  # floor of a bin's share in the PSI, so a bin empty on one side stays finite

# Evidently's defaults above 1000 reference rows (evidently.legacy.calculations.stattests).
_EVIDENTLY_SMALL_REFERENCE_ROWS = 1000  # at or below: p-value tests (K-S, chi-square, Z), left to Evidently

_FEW_VALUES = 5  # a numerical column with at most this many distinct values is tested like a category

WASSERSTEIN = "Wasserstein distance (normed)"

JENSEN_SHANNON = "Jensen-Shannon distance"

_DISTANCE_DEFAULT_THRESHOLD = 0.1  # default_threshold of both wasserstein_stat_test and jensenshannon_stat_test

_WASSERSTEIN_MIN_NORM = 0.001

_THREADS = 2


def _numpy_verdicts(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    numerical: list[str],
    categorical: list[str],
    thresholds: dict[str, float],
    psi_bins: int,
) -> tuple[dict[str, dict], dict[str, float]] | None:
    """Verdicts and PSI of every column, or None when a column would get one of Evidently's p-value tests."""
    from concurrent.futures import ThreadPoolExecutor

    def one(column: str) -> tuple[str, float, float] | None:
        if column in numerical:
            ref_series = _as_numbers(reference[column], column, "reference")
            cur_series = _as_numbers(current[column], column, "current")
            return _numerical_column(ref_series, cur_series, psi_bins)
        ref_counts, cur_counts = _value_counts(reference[column], current[column])
        ref_present, cur_present = int(ref_counts[:-1].sum()), int(cur_counts[:-1].sum())
        if ref_present <= _EVIDENTLY_SMALL_REFERENCE_ROWS or cur_present == 0:
            return None
        score = _jensen_shannon(ref_counts[:-1], cur_counts[:-1])
        return JENSEN_SHANNON, score, _psi_from_counts(ref_counts, cur_counts, len(reference), len(current))

    columns = [*numerical, *categorical]
    # numpy's sorts and searches release the GIL: two columns at a time use two cores.
    with ThreadPoolExecutor(max_workers=min(_THREADS, len(columns))) as pool:
        outcomes = list(pool.map(one, columns))
    verdicts: dict[str, dict] = {}
    psi: dict[str, float] = {}
    for column, outcome in zip(columns, outcomes, strict=True):
        if outcome is None:
            return None
        method, score, psi[column] = outcome
        threshold = float(thresholds[column])
        verdicts[column] = {"method": method, "score": score, "threshold": threshold, "drifted": score >= threshold}
    return verdicts, psi


def _numerical_column(ref_series: pd.Series, cur_series: pd.Series, psi_bins: int) -> tuple[str, float, float] | None:
    """(method, distance, PSI) of a numerical column, from the two sorted samples."""
    import numpy as np

    ref_all = ref_series.to_numpy(dtype="float64", na_value=np.nan)
    cur_all = cur_series.to_numpy(dtype="float64", na_value=np.nan)
    ref_finite, cur_finite = np.isfinite(ref_all), np.isfinite(cur_all)
    ref_values, cur_values = ref_all[ref_finite], cur_all[cur_finite]
    if ref_values.size <= _EVIDENTLY_SMALL_REFERENCE_ROWS or cur_values.size == 0:
        return None
    ref_sorted, cur_sorted = np.sort(ref_values), np.sort(cur_values)
    method, score = _numerical_distance(ref_sorted, cur_sorted)
    if not (np.isinf(ref_all).any() or np.isinf(cur_all).any()):
        psi = _sorted_psi(ref_sorted, cur_sorted, len(ref_all), len(cur_all), psi_bins)
    else:  # infinite values belong in the outer PSI bins
        psi = population_stability_index(ref_series, cur_series, numeric=True, bins=psi_bins)
    return method, score, psi


def _sorted_psi(ref_sorted: Any, cur_sorted: Any, ref_rows: int, cur_rows: int, bins: int) -> float:
    """population_stability_index of numbers without infinities, from the sorted non-missing values."""
    import numpy as np

    edges = np.unique(np.quantile(ref_sorted, np.linspace(0.0, 1.0, bins + 1))[1:-1])

    def counts(values: Any, rows: int) -> Any:
        below = np.concatenate(([0], np.searchsorted(values, edges, "left"), [values.size]))
        return np.append(np.diff(below), rows - values.size)  # bins, then missing values

    return _psi_from_counts(counts(ref_sorted, ref_rows), counts(cur_sorted, cur_rows), ref_rows, cur_rows)


def _numerical_distance(ref_sorted: Any, cur_sorted: Any) -> tuple[str, float]:
    """Evidently's default for > 1000 reference values: Wasserstein (normed), or Jensen-Shannon if <= 5 values.

    The Wasserstein distance is scipy.stats.wasserstein_distance's formula (the integral of |F_ref - F_cur|
    over the merged sorted values), computed from the two sorted samples (missing and infinite values
    dropped): the merge is a stable sort of two sorted runs, which is linear, where scipy sorts each
    sample twice; each side's CDF at a merged value counts that side's values up to it (at ties the count
    differs from scipy's, but there the step is 0).
    """
    import numpy as np

    joined = np.concatenate((ref_sorted, cur_sorted))
    order = np.argsort(joined, kind="stable")
    merged = joined[order]
    steps = np.diff(merged)
    distinct = 1 + int(np.count_nonzero(steps))
    if distinct <= _FEW_VALUES:  # utils.get_binned_data: one bin per value seen on either side
        values = merged[np.concatenate(([True], steps != 0))]
        ref_counts = np.searchsorted(ref_sorted, values, "right") - np.searchsorted(ref_sorted, values, "left")
        cur_counts = np.searchsorted(cur_sorted, values, "right") - np.searchsorted(cur_sorted, values, "left")
        return JENSEN_SHANNON, _jensen_shannon(ref_counts, cur_counts)
    ref_seen = np.cumsum(order[:-1] < ref_sorted.size)
    cur_seen = np.arange(1, merged.size) - ref_seen
    distance = float(np.vecdot(np.abs(ref_seen / ref_sorted.size - cur_seen / cur_sorted.size), steps))
    return WASSERSTEIN, distance / max(float(np.std(ref_sorted)), _WASSERSTEIN_MIN_NORM)


def _jensen_shannon(ref_counts: Any, cur_counts: Any) -> float:
    """scipy's Jensen-Shannon distance (natural log) of the two sides' shares of each value."""
    from scipy.spatial import distance

    return float(distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()))


def _value_counts(reference: pd.Series, current: pd.Series) -> tuple[Any, Any]:
    """Counts of each value seen on either side, then the count of missing (and infinite) values last."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(pd.concat([reference, current], ignore_index=True))
    if getattr(uniques.dtype, "kind", "O") in "fcO":  # float, complex, object or category: may hold inf
        infinite = np.flatnonzero(pd.Series(uniques).isin([np.inf, -np.inf]).to_numpy())
        if infinite.size:  # Evidently turns infinite values into missing ones
            codes = np.where(np.isin(codes, infinite), -1, codes)
    bins = len(uniques)
    codes = np.where(codes < 0, bins, codes)  # missing last
    ref_counts = np.bincount(codes[: len(reference)], minlength=bins + 1)
    cur_counts = np.bincount(codes[len(reference) :], minlength=bins + 1)
    return ref_counts, cur_counts


def population_stability_index(
    reference: pd.Series, current: pd.Series, *, numeric: bool, bins: int = 10, epsilon: float = PSI_EPSILON
) -> float:
    """PSI = sum((cur - ref) * ln(cur / ref)) over bins; missing values are a bin of their own.

    Numeric: edges at the reference's quantiles (duplicates merged, open-ended outer bins), so each
    bin holds about 1/bins of the reference. Categorical: one bin per value seen on either side.
    Shares are floored at ``epsilon``. 0 is identical; 0.1-0.2 is a moderate shift, above 0.2 a large one.
    """
    import numpy as np

    ref_missing, cur_missing = reference.isna().to_numpy(), current.isna().to_numpy()
    if numeric:
        ref_values = reference.to_numpy(dtype=float)[~ref_missing]
        cur_values = current.to_numpy(dtype=float)[~cur_missing]
        if len(ref_values) == 0:
            edges = np.array([], dtype=float)
        else:
            edges = np.unique(np.quantile(ref_values, np.linspace(0.0, 1.0, bins + 1))[1:-1])
        ref_counts = np.bincount(np.searchsorted(edges, ref_values, side="right"), minlength=len(edges) + 1)
        cur_counts = np.bincount(np.searchsorted(edges, cur_values, side="right"), minlength=len(edges) + 1)
    else:
        ref_text = reference[~ref_missing].astype(str).to_numpy()
        cur_text = current[~cur_missing].astype(str).to_numpy()
        categories = np.unique(np.concatenate([ref_text, cur_text]))
        ref_counts = np.bincount(np.searchsorted(categories, ref_text), minlength=len(categories))
        cur_counts = np.bincount(np.searchsorted(categories, cur_text), minlength=len(categories))
    ref_counts = np.append(ref_counts, ref_missing.sum())
    cur_counts = np.append(cur_counts, cur_missing.sum())
    return _psi_from_counts(ref_counts, cur_counts, len(reference), len(current), epsilon)


def _psi_from_counts(
    ref_counts: Any, cur_counts: Any, ref_rows: int, cur_rows: int, epsilon: float = PSI_EPSILON
) -> float:
    import numpy as np

    ref_share = np.maximum(ref_counts / max(ref_rows, 1), epsilon)
    cur_share = np.maximum(cur_counts / max(cur_rows, 1), epsilon)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
