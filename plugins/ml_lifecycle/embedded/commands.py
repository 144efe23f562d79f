"""``ml-lifecycle up|down|ps|trigger|backfill|approve|status``: the embedded default's services and the
things a person does in the Airflow UI, from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from typing import Any


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def register(sub: Any) -> None:
    up = sub.add_parser("up", help="start Airflow (scheduler, DAG processor, triggerer, API server) and the MLflow "
                        "UI in the background, wait until healthy, unpause the pipelines' DAGs")
    up.add_argument("--timeout", type=float, default=300, help="seconds to wait for health (default 300)")
    up.set_defaults(handler=_up)
    # Kept as a name users know: the UI alone cannot run anything, so it brings every service up.
    sub.add_parser("airflow-ui", help="alias of `up`").set_defaults(handler=_up, timeout=300)
    sub.add_parser("down", help="stop the services `up` started, and their task processes").set_defaults(
        handler=_down)
    sub.add_parser("ps", help="which services run, their health and logs").set_defaults(handler=_ps)

    scheduler = sub.add_parser("scheduler", help="Airflow's `scheduler` command in a process that imports the task "
                               "libraries first, so LocalExecutor's forked tasks start without importing them "
                               "(what `up` runs); the remaining arguments go to `airflow scheduler`")
    scheduler.set_defaults(handler=_scheduler, passes_unknown_args=True)

    trigger = sub.add_parser("trigger", help="trigger a pipeline's daily run for a date through the REST API")
    trigger.add_argument("--pipeline", default="churn")
    trigger.add_argument("--dag", default="daily", choices=["daily", "training"], help="which DAG (default daily)")
    trigger.add_argument("--date", type=_iso_date, default=None, help="the day (logical date); training: as_of")
    trigger.add_argument("--conf", default=None, help="run conf as JSON, validated against the DAG's Params")
    trigger.add_argument("--wait", action="store_true", help="wait for the run to finish; exit 1 unless success")
    trigger.set_defaults(handler=_trigger)

    backfill = sub.add_parser("backfill", help="run a pipeline's days FROM..TO, one at a time in date order")
    backfill.add_argument("--pipeline", default="churn")
    backfill.add_argument("--from", dest="from_date", type=_iso_date, required=True)
    backfill.add_argument("--to", dest="to_date", type=_iso_date, required=True)
    backfill.add_argument("--reprocess", choices=["none", "failed", "completed"], default="failed",
                          help="which days that already have a run are run again: none, failed ones (default) "
                          "or all")
    backfill.add_argument("--wait", action="store_true", help="wait for every day; exit 1 unless all succeed")
    backfill.set_defaults(handler=_backfill)

    approve = sub.add_parser("approve", help="answer a model promotion waiting for approval (as in the UI)")
    approve.add_argument("--pipeline", default="churn")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.set_defaults(handler=_approve)

    status = sub.add_parser("status", help="services, and per pipeline: champion, challenger, last runs, drift, "
                            "open alerts")
    status.add_argument("--pipeline", default=None, help="one pipeline (default: every pipeline)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)


def _up(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import services

    try:
        result = services.up(timeout=args.timeout)
    except services.ServiceError as exc:
        print(f"ml-lifecycle up: {exc}", file=sys.stderr)
        return 1
    if not result.started:
        print(f"already up and healthy: {', '.join(result.already_running)}")
    else:
        print(f"up in {result.seconds:.1f}s: started {', '.join(result.started)}")
    if result.unpaused:
        print(f"unpaused {', '.join(result.unpaused)} (DAGs are paused at creation; scheduled runs now fire, "
              "and today's run waits for its drop at most [ml_lifecycle] landing_timeout)")
    print(services.urls_banner())
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded.scheduler import run_scheduler

    run_scheduler(list(args.unknown_args))
    return 0


def _down(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import services

    services.down()
    return 0


def _ps(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import services

    rows = services.ps()
    print(f"{'service':<14} {'process':<8} {'pid':>7}  {'health':<11} log")
    for row in rows:
        print(f"{row['service']:<14} {row['process']:<8} {row['pid'] or '-':>7}  {row['health']:<11} {row['log']}")
    return 0 if all(row["process"] == "running" for row in rows) else 3


def _conf(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise SystemExit("--conf must be a JSON object")
    return value


def _trigger(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import api

    dag_id = f"{args.pipeline}_{args.dag}"
    conf = _conf(args.conf)
    try:
        if args.dag == "training":
            if args.date:
                conf.setdefault("as_of", args.date.isoformat())
            run = api.trigger(dag_id, logical_date=None, conf=conf)
        else:
            run = api.trigger(dag_id, logical_date=args.date, conf=conf)
        print(f"{dag_id}: queued {run['dag_run_id']}")
        if args.wait:
            done = api.wait_for_run(dag_id, run["dag_run_id"])
            print(f"{dag_id}: {done['dag_run_id']} {done['state']}")
            return 0 if done["state"] == "success" else 1
    except api.AirflowApiError as exc:
        print(f"ml-lifecycle trigger: {exc}", file=sys.stderr)
        return 1
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import api

    dag_id = f"{args.pipeline}_daily"
    try:
        created = api.backfill(dag_id, from_date=args.from_date, to_date=args.to_date,
                               reprocess_behavior=args.reprocess)
        days = (args.to_date - args.from_date).days + 1
        print(f"{dag_id}: backfill {created['id']} of {days} day(s), one at a time in date order")
        if args.wait:
            wanted = {(args.from_date + timedelta(days=n)).isoformat() for n in range(days)}
            runs = api.wait_for(lambda: api.finished_runs(dag_id, wanted),
                                f"backfill {created['id']} of {dag_id}", timeout=900 * days, interval=2)
            for run in runs:
                print(f"  {run['logical_date'][:10]} {run['state']}")
            return 0 if all(run["state"] == "success" for run in runs) else 1
    except api.AirflowApiError as exc:
        print(f"ml-lifecycle backfill: {exc}", file=sys.stderr)
        return 1
    return 0


def _approve(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded import api

    dag_id = f"{args.pipeline}_training"
    pending = api.pending_approvals(dag_id)
    if not pending:
        print(f"{dag_id}: no approval is waiting", file=sys.stderr)
        return 1
    for detail in pending:
        ti = detail["task_instance"]
        option = "Reject" if args.reject else "Approve"
        api.answer_approval(dag_id, ti["dag_run_id"], ti["task_id"], option, map_index=ti.get("map_index", -1),
                            asked_at=detail.get("created_at"))
        print(f"{dag_id} {ti['dag_run_id']}: {option} ({detail['subject']})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ml_lifecycle.embedded.status import collect_status, render_status

    report = collect_status(args.pipeline)
    print(json.dumps(report, indent=2, default=str) if args.json else render_status(report))
    return 0
