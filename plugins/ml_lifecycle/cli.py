"""``ml-lifecycle``: the lifecycle's stages and the local UIs, from a shell.

Every command runs on the embedded default (``.local/`` of the checkout) unless the environment
already points Airflow, MLflow or the lake elsewhere. Commands of other installed packages join through
the ``ml_lifecycle.commands`` entry point group: each entry is a ``register(subparsers)`` function that
adds its parsers with ``set_defaults(handler=...)`` (the demo and the simulator come from
``ml_lifecycle_dev`` this way, so the runtime package never imports it).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path
from typing import cast

from ml_lifecycle.settings import apply_embedded_environment, embedded_environment

COMMANDS_GROUP = "ml_lifecycle.commands"
Handler = Callable[[argparse.Namespace], int]


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ml-lifecycle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("validate-spec", help="check pipeline specs, their suites and (optionally) sample data")
    check.add_argument("specs", nargs="*", help="pipeline names or YAML paths (default: every include/pipelines/*.yaml)")
    check.add_argument("--data", type=Path, help="a CSV or Parquet sample to check the spec's columns against "
                       "(default: the spec's simulation dataset, if any)")
    check.set_defaults(handler=_validate_spec, embedded=False)
    sub.add_parser("spec-schema", help="print the JSON schema of pipeline specs").set_defaults(
        handler=_spec_schema, embedded=False)

    lineage = sub.add_parser("lineage", help="print a model version's lineage (default: the champion)")
    lineage.add_argument("--pipeline", default="churn")
    lineage.add_argument("--version", default=None, help="model version number (default: the champion)")
    lineage.add_argument("--json", action="store_true", help="print JSON instead of text")
    lineage.set_defaults(handler=_lineage)
    rollback = sub.add_parser("rollback", help="move the champion alias back (or to --version), with a reason")
    rollback.add_argument("--pipeline", default="churn")
    rollback.add_argument("--version", default=None, help="version to make champion (default: the previous champion)")
    rollback.add_argument("--reason", required=True, help="why (at least 10 characters); recorded in the alias history")
    rollback.set_defaults(handler=_rollback)

    train = sub.add_parser(
        "train", help="train and register a model version on an assembled window (the train task's core; "
        "what ContainerTrainModelOperator runs in its container); prints the result as JSON on the last line")
    train.add_argument("--pipeline", required=True, help="pipeline name or path to its spec")
    train.add_argument("--window-json", required=True,
                       help="the assemble_window result as JSON (or @path to a file holding it)")
    train.add_argument("--run-id", default=None, help="the Airflow run id, recorded as lineage (airflow.run_id)")
    train.add_argument("--lineage-json", default=None,
                       help="lineage tags as a JSON object (airflow.dag_id, airflow.task_id, ...)")
    train.set_defaults(handler=_train)

    profile = sub.add_parser("profile-suite", help="draft an expectation suite from a validated (or raw) partition")
    profile.add_argument("--pipeline", default="churn")
    profile.add_argument("--ds", type=iso_date, required=True)
    profile.add_argument("--out", type=Path, default=None, help="default: include/expectations/<pipeline>.draft.json")
    profile.set_defaults(handler=_profile_suite)

    sub.add_parser("env", help="print the embedded default's environment as shell exports").set_defaults(
        handler=_env, embedded=False)
    from ml_lifecycle.embedded.commands import register as register_service_commands

    register_service_commands(sub)
    mlflow_ui = sub.add_parser("mlflow-ui", help="serve the MLflow UI on the embedded default's store")
    mlflow_ui.add_argument("--port", type=int, default=5000)
    mlflow_ui.set_defaults(handler=_mlflow_ui)

    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        entry.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "passes_unknown_args", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown_args = unknown
    if getattr(args, "embedded", True):
        apply_embedded_environment()
    handler: Handler = args.handler
    return handler(args)


# ---- the commands ------------------------------------------------------------------------------------
def _env(args: argparse.Namespace) -> int:
    for key, value in embedded_environment().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _validate_spec(args: argparse.Namespace) -> int:
    from ml_lifecycle.validation import validate_specs

    return validate_specs(args.specs, data=args.data)


def _spec_schema(args: argparse.Namespace) -> int:
    import json

    from ml_lifecycle.spec import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2))
    return 0


def _profile_suite(args: argparse.Namespace) -> int:
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.validation import profile_partition

    profiled = profile_partition(load_spec(args.pipeline), Lake(), args.ds.isoformat(), out=args.out)
    print(f"draft suite from {profiled['zone']} ds={args.ds} ({profiled['rows']} rows, "
          f"{profiled['expectations']} expectations): {profiled['path']}")
    return 0


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


def _train(args: argparse.Namespace) -> int:
    """The same core call as TrainModelOperator; the result dict is the LAST line of stdout, as JSON.

    ContainerTrainModelOperator reads that line back from the container's log, so nothing may be
    printed to stdout after it.
    """
    import json
    import time

    from ml_lifecycle.contracts import TrainingWindow
    from ml_lifecycle.exceptions import SpecError
    from ml_lifecycle.spec import load_spec
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
    result = train_and_register(spec, cast(TrainingWindow, window), TrackingTarget.from_env(), lineage)
    print(json.dumps({**result, "core_seconds": round(time.perf_counter() - started, 3)}, sort_keys=True,
                     default=str), flush=True)
    return 0


def _lineage(args: argparse.Namespace) -> int:
    import json

    from ml_lifecycle.exceptions import LineageError
    from ml_lifecycle.registry import format_lineage, version_lineage
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.tracking import TrackingTarget

    try:
        found = version_lineage(load_spec(args.pipeline), TrackingTarget.from_env(), args.version)
    except LineageError as exc:
        print(f"ml-lifecycle lineage: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(found, indent=2) if args.json else format_lineage(found))
    return 0


def _rollback(args: argparse.Namespace) -> int:
    import getpass

    from ml_lifecycle.exceptions import RegistryError
    from ml_lifecycle.registry import rollback
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.tracking import TrackingTarget

    try:
        result = rollback(load_spec(args.pipeline), TrackingTarget.from_env(), version=args.version,
                          reason=args.reason, actor=f"cli:{getpass.getuser()}")
    except RegistryError as exc:
        print(f"ml-lifecycle rollback: refused: {exc}", file=sys.stderr)
        return 1
    print(f"{result['action']}: champion v{result['previous_champion']} -> v{result['champion_version']} "
          f"at {result['at']} ({result['reason']})")
    return 0


def _mlflow_ui(args: argparse.Namespace) -> int:
    env = embedded_environment()
    home = Path(env["ML_LIFECYCLE_LOCAL_HOME"])
    print(f"MLflow UI: http://localhost:{args.port}")
    os.execv(sys.executable, [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", env["MLFLOW_TRACKING_URI"],
                              "--default-artifact-root", (home / "mlflow" / "artifacts").as_uri(),
                              "--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
