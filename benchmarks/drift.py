"""Drift check time and memory: our drift step against Evidently's DataDriftPreset with default settings.

    .venv/bin/python benchmarks/drift.py [--rows 1000000] [--no-category]

Data (generated with numpy in each child, seeded, not timed): 20 features, 12 numeric (normal, lognormal,
uniform, integer-valued, one with 4 values, one with 5% NaN) and 8 categorical strings (2 to 100 values,
one with missing values), ``--rows`` reference rows against ``--rows`` current rows. Drift is put on
known columns: 3 numeric (mean shifted, scaled, shifted) and 2 categorical (mix changed).

Each side runs in a fresh child process, which reports its own peak RSS (``ru_maxrss``); imports and data
generation happen before the clock starts:
- ours: ``drift.check_drift(spec, reference, current, out_dir=...)``, what the monitoring operator calls
  (verdicts of all rows and Evidently's HTML report on its sample, written to a temporary folder);
- ref: ``Report([DataDriftPreset()], include_tests=True).run(current_data=..., reference_data=...)``, default
  settings, strings as they come (``object`` dtype), with a DataDefinition naming the same numerical and
  categorical columns (so both sides test the same column types);
- ref_category (information, unless ``--no-category``): the same with the strings as ``category`` dtype.
The last line is the summary: ``drift: ours=... ref=... ratio=... peak_rss_mb=... same_verdicts=...``,
where peak_rss_mb is our side's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

NUMERIC = [f"num_{i:02d}" for i in range(12)]
CATEGORICAL = [f"cat_{i}" for i in range(8)]
CARDINALITY = [2, 3, 4, 5, 8, 12, 30, 100]
DRIFTED_NUMERIC = {"num_00": "shift", "num_01": "scale", "num_05": "shift"}
DRIFTED_CATEGORICAL = {"cat_1", "cat_4"}
EXPECTED_DRIFTED = sorted([*DRIFTED_NUMERIC, *DRIFTED_CATEGORICAL])
SEED = 20240607


def make_frame(rows: int, *, current: bool) -> Any:
    """One side's 20 feature columns; ``current`` draws other rows and drifts the known columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED + (1 if current else 0))
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 6
        if kind == 0:
            values = rng.normal(50.0, 10.0, rows)
        elif kind == 1:
            values = rng.lognormal(3.0, 0.6, rows)
        elif kind == 2:
            values = rng.uniform(0.0, 100.0, rows)
        elif kind == 3:
            values = rng.integers(0, 73, rows).astype("float64")  # tenure-like, 73 values
        elif kind == 4:
            values = rng.choice([0.0, 1.0, 2.0, 3.0], rows, p=[0.4, 0.3, 0.2, 0.1])  # few values
        else:
            values = rng.gamma(2.0, 15.0, rows)
        if current and DRIFTED_NUMERIC.get(name) == "shift":
            values = values + 0.3 * values.std()
        elif current and DRIFTED_NUMERIC.get(name) == "scale":
            values = values * 1.5
        if i == 11:
            values[rng.random(rows) < 0.05] = np.nan
        columns[name] = values
    for name, size in zip(CATEGORICAL, CARDINALITY, strict=True):
        labels = np.array([f"{name}_value_{k}" for k in range(size)], dtype=object)
        weights = 1.0 / np.arange(1, size + 1)  # a skewed mix
        if current and name in DRIFTED_CATEGORICAL:
            weights = weights[::-1]
        codes = rng.choice(size, rows, p=weights / weights.sum())
        values = labels[codes]  # object strings sharing a few str objects, as pyarrow's to_pandas gives them
        if name == "cat_6":
            values[rng.random(rows) < 0.02] = None
        columns[name] = values
    return pd.DataFrame(columns)


def make_spec() -> Any:
    from ml_lifecycle.spec import PipelineSpec

    return PipelineSpec.model_validate(
        {
            "name": "drift_bench",
            "id_column": "row_id",
            "event_date_column": "event_date",
            "target": {"column": "label", "positive_class": 1},
            "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
            "model": {"registered_name": "drift_bench"},
            "expectations": "expectations/churn.json",
        }
    )


# ---- children ----------------------------------------------------------------------------------
def run_ours(rows: int) -> dict[str, Any]:
    from ml_lifecycle.monitoring import check_drift

    spec = make_spec()
    reference, current = make_frame(rows, current=False), make_frame(rows, current=True)
    with tempfile.TemporaryDirectory() as out_dir:
        started = time.perf_counter()
        result = check_drift(spec, reference, current, out_dir=Path(out_dir))
        seconds = time.perf_counter() - started
        html_bytes = (Path(out_dir) / "drift_report.html").stat().st_size
    return {
        "seconds": seconds,
        "drifted": sorted(result.drifted_columns),
        "method_source": result.method_source,
        "report_sample_rows": result.report_sample_rows,
        "html_bytes": html_bytes,
        "scores": {c: round(v["score"], 6) for c, v in result.columns.items()},
    }


def run_ref(rows: int, *, category: bool) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore")
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    from ml_lifecycle.monitoring.drift_evidently import _read_verdicts

    reference, current = make_frame(rows, current=False), make_frame(rows, current=True)
    if category:
        for name in CATEGORICAL:
            reference[name] = reference[name].astype("category")
            current[name] = current[name].astype("category")
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    seconds = time.perf_counter() - started
    verdicts, _, _ = _read_verdicts(json.loads(snapshot.json()))
    return {
        "seconds": seconds,
        "drifted": sorted(c for c, v in verdicts.items() if v["drifted"]),
        "scores": {c: round(v["score"], 6) for c, v in verdicts.items()},
    }


def child(side: str, rows: int) -> None:
    if side == "ours":
        outcome = run_ours(rows)
    else:
        outcome = run_ref(rows, category=side == "ref_category")
    outcome["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(outcome))


def measure(side: str, rows: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", side, "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--no-category", action="store_true", help="skip the category-dtype Evidently run")
    parser.add_argument("--child", choices=["ours", "ref", "ref_category"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return

    print(f"{args.rows:,} reference rows vs {args.rows:,} current rows, {len(NUMERIC)} numeric + "
          f"{len(CATEGORICAL)} categorical features; drifted by construction: {EXPECTED_DRIFTED}", flush=True)
    sides = ["ours", "ref", *([] if args.no_category else ["ref_category"])]
    results = {}
    for side in sides:
        results[side] = measure(side, args.rows)
        outcome = results[side]
        extra = "".join(
            f" {key}={outcome[key]}" for key in ("method_source", "report_sample_rows", "html_bytes") if key in outcome
        )
        print(f"{side}: {outcome['seconds']:.2f}s peak_rss_mb={outcome['peak_rss_mb']:.0f} "
              f"drifted={outcome['drifted']}{extra}", flush=True)
    ours, ref = results["ours"], results["ref"]
    worst = max(abs(ours["scores"][c] - ref["scores"][c]) for c in ref["scores"])
    print(f"largest score difference ours vs ref (rounded to 1e-6): {worst:.1e}; "
          f"drifted as constructed: {'yes' if ours['drifted'] == EXPECTED_DRIFTED else 'no'}")
    same = ours["drifted"] == ref["drifted"]
    print(f"drift: ours={ours['seconds']:.2f}s ref={ref['seconds']:.2f}s "
          f"ratio={ref['seconds'] / ours['seconds']:.1f} peak_rss_mb={ours['peak_rss_mb']:.0f} "
          f"same_verdicts={'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
