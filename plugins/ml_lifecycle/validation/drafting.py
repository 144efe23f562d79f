"""Drafting a suite from data, for a person to review before it is committed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.exceptions import PartitionNotFound
from ml_lifecycle.ingest import read_raw_features
from ml_lifecycle.lake import VALIDATED_FILE, Lake, write_text
from ml_lifecycle.validation.suite import (
    BINARY_TYPES,
    NUMERIC_TYPES,
    SEVERITY_ERROR,
    SEVERITY_WARN,
    _expectation,
    _import_gx,
)

if TYPE_CHECKING:
    import pandas as pd

    from ml_lifecycle.spec import PipelineSpec


def _nice(value: float, *, up: bool, digits: int = 2) -> float:
    """Round to ``digits`` significant digits, away from the data (up for a maximum, down for a minimum)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    rounded = (math.ceil if up else math.floor)(value / step) * step
    return float(round(rounded, 10))


def draft_suite_from_frame(spec: PipelineSpec, df: pd.DataFrame) -> dict[str, Any]:
    """Profile a representative frame into a draft suite (review it by hand before committing it).

    ``df`` holds the spec's feature columns (id and event date columns are optional; their checks do not
    depend on the data). Ranges get a margin beyond what the data shows; categorical value sets are the
    values seen; columns with missing values get a soft (warn) and a hard (error) ``mostly`` bound.
    """
    import pandas as pd

    missing = [c for c in spec.feature_columns if c not in df.columns]
    if missing:
        raise ValueError(f"cannot draft a suite: the frame lacks feature columns {missing}")
    E, W = SEVERITY_ERROR, SEVERITY_WARN
    required = [spec.id_column, spec.event_date_column, *spec.feature_columns]
    exps: list[dict[str, Any]] = [
        _expectation(
            "expect_table_row_count_to_be_between",
            E,
            min_value=50,
            max_value=2_000_000,
            notes=(
                "Plausibility limits of a day's batch; the day-to-day check is relative to recent days "
                "(spec validation.row_count_*), added at run time."
            ),
        ),
        _expectation(
            "expect_table_columns_to_match_set",
            W,
            column_set=required,
            exact_match=True,
            notes="Extra columns are dropped by the validated schema; a target column here would be a leak.",
        ),
    ]
    exps += [_expectation("expect_column_to_exist", E, column=c) for c in required]
    exps += [
        _expectation("expect_column_values_to_not_be_null", E, column=spec.id_column),
        _expectation("expect_column_values_to_be_unique", E, column=spec.id_column),
        _expectation("expect_column_values_to_not_be_null", E, column=spec.event_date_column),
        _expectation(
            "expect_column_values_to_match_strftime_format",
            E,
            column=spec.event_date_column,
            strftime_format="%Y-%m-%d",
        ),
    ]
    for column in spec.features.numeric:
        values = pd.to_numeric(df[column], errors="coerce")
        lo, hi = float(values.min()), float(values.max())
        # A minimum that is near zero relative to the maximum is anchored at zero (counts, amounts).
        lower = (
            0.0
            if 0 <= lo <= 0.05 * hi
            else (_nice(lo * 0.5, up=False, digits=1) if lo > 0 else _nice(lo * 1.5, up=False, digits=2))
        )
        upper = _nice(hi * 1.25, up=True)
        exps.append(
            _expectation("expect_column_values_to_be_in_type_list", E, column=column, type_list=NUMERIC_TYPES)
        )
        exps.append(
            _expectation(
                "expect_column_values_to_be_between",
                E,
                column=column,
                min_value=lower,
                max_value=upper,
                notes=f"profiled range {lo:g}..{hi:g}, widened",
            )
        )
        null_share = float(values.isna().mean())
        if null_share == 0:
            exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        else:
            hard = math.floor(min(0.95, 1 - 2 * null_share) * 100) / 100
            soft = math.floor(min(0.98, 1 - 1.5 * null_share) * 100) / 100
            note = f"{null_share:.2%} missing in the profile"
            exps.append(
                _expectation("expect_column_values_to_not_be_null", W, column=column, mostly=soft, notes=note)
            )
            exps.append(
                _expectation("expect_column_values_to_not_be_null", E, column=column, mostly=hard, notes=note)
            )
        mean, std = float(values.mean()), float(values.std())
        exps.append(
            _expectation(
                "expect_column_mean_to_be_between",
                W,
                column=column,
                min_value=_nice(max(mean - 0.5 * std, lo), up=False),
                max_value=_nice(mean + 0.5 * std, up=True),
                notes=f"profiled mean {mean:.4g} +/- half a standard deviation ({std:.4g}): a soft shift alarm",
            )
        )
        quantiles = [0.1, 0.5, 0.9]
        observed = [float(q) for q in values.quantile(quantiles)]
        spread = max(std, 1e-9)
        exps.append(
            _expectation(
                "expect_column_quantile_values_to_be_between",
                W,
                column=column,
                quantile_ranges={
                    "quantiles": quantiles,
                    "value_ranges": [
                        [_nice(max(q - 0.5 * spread, lo), up=False), _nice(q + 0.5 * spread, up=True)]
                        for q in observed
                    ],
                },
                notes="profiled deciles and median +/- half a standard deviation: a soft shape alarm",
            )
        )
    for column in spec.features.binary:
        exps.append(
            _expectation("expect_column_values_to_be_in_type_list", E, column=column, type_list=BINARY_TYPES)
        )
        exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        exps.append(_expectation("expect_column_values_to_be_in_set", E, column=column, value_set=[0, 1]))
    for column in spec.features.categorical:
        seen = sorted(str(v) for v in df[column].dropna().unique())
        exps.append(_expectation("expect_column_values_to_not_be_null", E, column=column))
        exps.append(_expectation("expect_column_values_to_be_in_set", E, column=column, value_set=seen))
        shares = df[column].dropna().astype(str).value_counts(normalize=True).reindex(seen, fill_value=0.0)
        exps.append(
            _expectation(
                "expect_column_kl_divergence_to_be_less_than",
                W,
                column=column,
                partition_object={"values": seen, "weights": [float(w) for w in shares]},
                threshold=0.1,
                notes="category frequencies of the profile; KL divergence above 0.1 is a soft shift alarm",
            )
        )

    gx = _import_gx()
    suite = gx.ExpectationSuite(
        name=spec.name,
        expectations=exps,
        meta={
            "pipeline": spec.name,
            "drafted_by": "ml_lifecycle.validation.draft_suite_from_frame",
            "profiled_rows": len(df),
            "severity": "meta.severity per expectation: 'error' blocks the batch, 'warn' is reported only",
        },
    )
    if len(suite.expectations) != len(exps):  # GX drops invalid configurations with a log line only
        raise ValueError(f"GX refused {len(exps) - len(suite.expectations)} drafted expectation(s)")
    drafted: dict[str, Any] = suite.to_json_dict()
    return drafted


def profile_partition(spec: PipelineSpec, lake: Lake, ds: str, *, out: Path | None = None) -> dict[str, Any]:
    """Draft a suite from a day's validated partition (or its raw current version) and write it to ``out``.

    The draft is a starting point for review, never used as is: it lands next to the committed suite
    (``<pipeline>.draft.json``) unless ``out`` says otherwise.
    """
    import pandas as pd


    try:
        frame = pd.read_parquet(lake.require_partition("validated", spec.name, ds) / VALIDATED_FILE)
        zone = "validated"
    except PartitionNotFound:
        frame, _ = read_raw_features(spec, lake, ds)  # raises PartitionNotFound naming the raw partition
        zone = "raw"
    drafted = draft_suite_from_frame(spec, frame)
    target = Path(out) if out is not None else spec.expectations_path.with_suffix(".draft.json")
    write_text(target, json.dumps(drafted, indent=2) + "\n")
    return {"zone": zone, "rows": len(frame), "expectations": len(drafted["expectations"]), "path": str(target)}
