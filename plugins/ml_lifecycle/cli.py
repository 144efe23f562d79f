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

    check = sub.add_parser("validate-spec", help="check pipeline specs, their suites and (optionally) sample data")
    check.add_argument("specs", nargs="*", help="pipeline names or YAML paths (default: every include/pipelines/*.yaml)")
    check.add_argument("--data", type=Path, help="a CSV or Parquet sample to check the spec's columns against "
                       "(default: the spec's simulation dataset, if any)")
    sub.add_parser("spec-schema", help="print the JSON schema of pipeline specs")

    lineage = sub.add_parser("lineage", help="print a model version's lineage (default: the champion)")
    lineage.add_argument("--pipeline", default="churn")
    lineage.add_argument("--version", default=None, help="model version number (default: the champion)")
    lineage.add_argument("--json", action="store_true", help="print JSON instead of text")
    rollback = sub.add_parser("rollback", help="move the champion alias back (or to --version), with a reason")
    rollback.add_argument("--pipeline", default="churn")
    rollback.add_argument("--version", default=None, help="version to make champion (default: the previous champion)")
    rollback.add_argument("--reason", required=True, help="why (at least 10 characters); recorded in the alias history")

    train = sub.add_parser(
        "train", help="train and register a model version on an assembled window (the train task's core; "
        "what ContainerTrainModelOperator runs in its container); prints the result as JSON on the last line")
    train.add_argument("--pipeline", required=True, help="pipeline name or path to its spec")
    train.add_argument("--window-json", required=True,
                       help="the assemble_window result as JSON (or @path to a file holding it)")
    train.add_argument("--run-id", default=None, help="the Airflow run id, recorded as lineage (airflow.run_id)")
    train.add_argument("--lineage-json", default=None,
                       help="lineage tags as a JSON object (airflow.dag_id, airflow.task_id, ...)")

    profile = sub.add_parser("profile-suite", help="draft an expectation suite from a validated (or raw) partition")
    profile.add_argument("--pipeline", default="churn")
    profile.add_argument("--ds", type=_date, required=True)
    profile.add_argument("--out", type=Path, default=None, help="default: include/expectations/<pipeline>.draft.json")

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
    if args.command == "validate-spec":
        from ml_lifecycle.spec_check import validate_specs

        return validate_specs(args.specs, data=args.data)
    if args.command == "spec-schema":
        import json

        from ml_lifecycle.spec import spec_json_schema

        print(json.dumps(spec_json_schema(), indent=2))
        return 0
    env = apply_embedded_environment()
    if args.command == "profile-suite":
        from ml_lifecycle.lake import Lake
        from ml_lifecycle.spec import load_spec
        from ml_lifecycle.validation import profile_partition

        profiled = profile_partition(load_spec(args.pipeline), Lake(), args.ds.isoformat(), out=args.out)
        print(f"draft suite from {profiled['zone']} ds={args.ds} ({profiled['rows']} rows, "
              f"{profiled['expectations']} expectations): {profiled['path']}")
        return 0
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
    if args.command == "train":
        return _train_command(args)
    if args.command in ("lineage", "rollback"):
        return _registry_command(args)
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


def _json_argument(option: str, text: str) -> dict:
    import json

    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"ml-lifecycle train: {option} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SystemExit(f"ml-lifecycle train: {option} must be a JSON object, got {type(value).__name__}")
    return value


def _train_command(args: argparse.Namespace) -> int:
    """The same core call as TrainModelOperator; the result dict is the LAST line of stdout, as JSON.

    ContainerTrainModelOperator reads that line back from the container's log, so nothing may be
    printed to stdout after it.
    """
    import json
    import time

    from ml_lifecycle.spec import SpecError, load_spec
    from ml_lifecycle.tracking import TrackingTarget
    from ml_lifecycle.training import train_and_register

    window = _json_argument("--window-json", args.window_json)
    lineage = {str(k): str(v) for k, v in _json_argument("--lineage-json", args.lineage_json or "{}").items()}
    if args.run_id:
        lineage["airflow.run_id"] = args.run_id
    missing = sorted({"as_of", "train_path", "holdout_path", "partitions", "data_versions", "train_rows"} - set(window))
    if missing:
        print(f"ml-lifecycle train: --window-json lacks {', '.join(missing)} (pass the assemble_window result)",
              file=sys.stderr)
        return 2
    try:
        spec = load_spec(args.pipeline)
    except SpecError as exc:
        print(f"ml-lifecycle train: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = train_and_register(spec, window, TrackingTarget.from_env(), lineage)
    result["core_seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result, sort_keys=True, default=str), flush=True)
    return 0


def _registry_command(args: argparse.Namespace) -> int:
    import getpass
    import json

    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.tracking import TrackingTarget

    spec, target = load_spec(args.pipeline), TrackingTarget.from_env()
    if args.command == "lineage":
        from ml_lifecycle.lineage import LineageError, format_lineage, version_lineage

        try:
            found = version_lineage(spec, target, args.version)
        except LineageError as exc:
            print(f"ml-lifecycle lineage: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(found, indent=2) if args.json else format_lineage(found))
        return 0
    from ml_lifecycle.registry import RegistryError, rollback

    try:
        result = rollback(spec, target, version=args.version, reason=args.reason, actor=f"cli:{getpass.getuser()}")
    except RegistryError as exc:
        print(f"ml-lifecycle rollback: refused: {exc}", file=sys.stderr)
        return 1
    print(f"{result['action']}: champion v{result['previous_champion']} -> v{result['champion_version']} "
          f"at {result['at']} ({result['reason']})")
    return 0


def _ensure_airflow_db() -> None:
    import subprocess

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())
