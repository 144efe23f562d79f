"""``ml-lifecycle``: the demo, the simulator and the local UIs, from a shell.

Every command runs on the embedded default (``.local/`` of the checkout) unless the environment
already points Airflow, MLflow or the lake elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import date
from pathlib import Path

from ml_lifecycle.settings import apply_embedded_environment, embedded_environment


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ml-lifecycle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="simulate ~30 days and run the DAGs through Airflow, then summarise")
    demo.add_argument("--pipeline", default="churn")
    demo.add_argument("--start", type=_date, default=date(2026, 10, 1))
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--drift-start-day", type=int, default=18)
    demo.add_argument("--label-delay-days", type=int, default=3)
    demo.add_argument("--first-training-day", type=int, default=10)
    demo.add_argument("--corrupt-day", type=int, default=12, help="land a broken file that day (0: none)")
    demo.add_argument("--keep-state", action="store_true", help="do not reset .local/ state first")

    sim = sub.add_parser("simulate", help="land daily files replayed from the pipeline's public table")
    sim.add_argument("--pipeline", default="churn")
    sim.add_argument("--start", type=_date, required=True)
    sim.add_argument("--days", type=int, required=True)
    sim.add_argument("--label-delay-days", type=int, default=3)
    sim.add_argument("--drift-start-day", type=int, default=None)
    sim.add_argument("--seed", type=int, default=7)

    sub.add_parser("env", help="print the embedded default's environment as shell exports")
    ui = sub.add_parser("airflow-ui", help="serve the Airflow UI on the embedded default's metadata DB")
    ui.add_argument("--port", type=int, default=8080)
    mlflow_ui = sub.add_parser("mlflow-ui", help="serve the MLflow UI on the embedded default's store")
    mlflow_ui.add_argument("--port", type=int, default=5000)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "env":
        for key, value in embedded_environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    env = apply_embedded_environment()
    if args.command == "demo":
        from ml_lifecycle.demo import DemoPlan, run_demo

        plan = DemoPlan(
            pipeline=args.pipeline,
            start=args.start,
            days=args.days,
            drift_start_day=args.drift_start_day,
            label_delay_days=args.label_delay_days,
            first_training_day=args.first_training_day,
            corrupt_day=args.corrupt_day or None,
            reset_state=not args.keep_state,
        )
        return run_demo(plan)
    if args.command == "simulate":
        from ml_lifecycle.lake import Lake
        from ml_lifecycle.simulate import simulate
        from ml_lifecycle.spec import load_spec

        written = simulate(
            load_spec(args.pipeline), Lake(), start=args.start, days=args.days,
            label_delay_days=args.label_delay_days, drift_start_day=args.drift_start_day, seed=args.seed,
        )
        for day in written:
            print(f"{day.ds}: {day.feature_rows} feature rows, {day.label_rows_landed} labels"
                  f"{' (drifted)' if day.drifted else ''}")
        return 0
    if args.command == "airflow-ui":
        _ensure_airflow_db()
        print(f"Airflow UI: http://localhost:{args.port} (every local user is admin in the embedded default)")
        os.execv(sys.executable, [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(args.port)])
    if args.command == "mlflow-ui":
        home = Path(env["ML_LIFECYCLE_LOCAL_HOME"])
        print(f"MLflow UI: http://localhost:{args.port}")
        os.execv(sys.executable, [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", env["MLFLOW_TRACKING_URI"],
                             "--default-artifact-root", (home / "mlflow" / "artifacts").as_uri(),
                             "--host", "127.0.0.1", "--port", str(args.port)])
    return 2


def _ensure_airflow_db() -> None:
    import subprocess

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())
