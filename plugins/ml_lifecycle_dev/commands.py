"""The dev package's commands of ``ml-lifecycle`` (the ``ml_lifecycle.commands`` entry point): demo, simulate."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from ml_lifecycle.cli import iso_date


def register(sub: Any) -> None:
    """Add ``demo`` and ``simulate`` to the CLI's subparsers."""
    demo = sub.add_parser("demo", help="simulate ~30 days and run the DAGs through Airflow, then summarise")
    demo.add_argument("--pipeline", default="churn")
    demo.add_argument("--start", type=iso_date, default=date(2026, 10, 1))
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--drift-start-day", type=int, default=18)
    demo.add_argument("--label-delay-days", type=int, default=3)
    demo.add_argument("--first-training-day", type=int, default=10)
    demo.add_argument("--corrupt-day", type=int, default=12, help="land a broken file that day (0: none)")
    demo.add_argument("--keep-state", action="store_true", help="do not reset .local/ state first")
    demo.set_defaults(handler=_demo)

    sim = sub.add_parser("simulate", help="land daily files replayed from the pipeline's public table")
    sim.add_argument("--pipeline", default="churn")
    sim.add_argument("--start", type=iso_date, required=True)
    sim.add_argument("--days", type=int, required=True)
    sim.add_argument("--label-delay-days", type=int, default=3)
    sim.add_argument("--drift-start-day", type=int, default=None)
    sim.add_argument("--seed", type=int, default=7)
    sim.set_defaults(handler=_simulate)


def _demo(args: argparse.Namespace) -> int:
    from ml_lifecycle_dev.demo import DemoPlan, run_demo

    return run_demo(DemoPlan(
        pipeline=args.pipeline,
        start=args.start,
        days=args.days,
        drift_start_day=args.drift_start_day,
        label_delay_days=args.label_delay_days,
        first_training_day=args.first_training_day,
        corrupt_day=args.corrupt_day or None,
        reset_state=not args.keep_state,
    ))


def _simulate(args: argparse.Namespace) -> int:
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle_dev.simulate import simulate

    written = simulate(
        load_spec(args.pipeline), Lake(), start=args.start, days=args.days,
        label_delay_days=args.label_delay_days, drift_start_day=args.drift_start_day, seed=args.seed,
    )
    for day in written:
        print(f"{day.ds}: {day.feature_rows} feature rows, {day.label_rows_landed} labels"
              f"{' (drifted)' if day.drifted else ''}")
    return 0
