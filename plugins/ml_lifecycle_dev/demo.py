"""The demo: a month of daily churn files played through the real DAGs on the embedded default.

Runs are executed by Airflow (``DAG.test``: each task instance goes through Airflow's task runner and
is recorded in the metadata DB, so the Airflow UI shows them afterwards) inside one process. Starting
a fresh interpreter per task would spend ~20 s per task importing pandas, scikit-learn, MLflow, Great
Expectations and Evidently; in one process each library is imported once.

The demo plays the scheduler's part: one ``churn_daily`` run per day, a manual ``churn_training`` run
to bootstrap the first model, and a training run whenever the daily run's retraining policy emitted
the Asset event that ``churn_training`` is scheduled on. Airflow's own log lines go to
``.local/demo/airflow.log``; the terminal gets one line per run.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ml_lifecycle.settings import local_home, project_root


@dataclass(frozen=True)
class DemoPlan:
    pipeline: str = "churn"
    start: date = date(2026, 10, 1)
    days: int = 30
    drift_start_day: int | None = 18
    label_delay_days: int = 3
    first_training_day: int = 10
    corrupt_day: int | None = 12
    reset_state: bool = True


@dataclass
class DemoLog:
    daily: dict[str, str] = field(default_factory=dict)  # ds -> run state
    trainings: list[dict[str, Any]] = field(default_factory=list)
    retraining_requests: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)  # outcomes the demo's plan did not call for
    registry_actions: list[dict[str, Any]] = field(default_factory=list)  # rollback / re-promotion runs


_terminal = sys.stdout


def say(message: str) -> None:
    print(message, file=_terminal, flush=True)


@contextmanager
def _airflow_output_to(path: Path) -> Iterator[None]:
    """Send everything written to stdout/stderr (Airflow's task logs) to a file; ``say`` still prints."""
    global _terminal
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    previous = _terminal
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        _terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            _terminal.close()
            _terminal = previous
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)


def run_demo(plan: DemoPlan) -> int:
    started = time.perf_counter()
    home = local_home()
    if plan.reset_state:
        for sub in ("airflow", "mlflow", "lake"):
            shutil.rmtree(home / sub, ignore_errors=True)
        (home / "mlflow" / "artifacts").mkdir(parents=True, exist_ok=True)
        (home / "airflow").mkdir(parents=True, exist_ok=True)
    say(f"[demo] state under {home} ({'reset' if plan.reset_state else 'kept'})")

    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    say(f"[demo] Airflow metadata DB ready ({time.perf_counter() - t:.1f}s)")

    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle_dev.simulate import simulate

    spec = load_spec(plan.pipeline)
    lake = Lake()
    landed = simulate(
        spec, lake, start=plan.start, days=plan.days, label_delay_days=plan.label_delay_days,
        drift_start_day=plan.drift_start_day,
        corrupt_days=frozenset({plan.corrupt_day}) if plan.corrupt_day else frozenset(),
    )
    say(f"[demo] landed {len(landed)} daily files of {spec.simulation.dataset if spec.simulation else '?'} "
        f"from {landed[0].ds} ({sum(d.feature_rows for d in landed)} rows; labels {plan.label_delay_days} days late; "
        f"drift from day {plan.drift_start_day}; broken file on day {plan.corrupt_day})")

    airflow_log = home / "demo" / "airflow.log"
    airflow_log.unlink(missing_ok=True)
    say(f"[demo] Airflow's task logs: {airflow_log}")
    with _airflow_output_to(airflow_log):
        log = _play(plan, spec)

    elapsed = time.perf_counter() - started
    from ml_lifecycle_dev.summary import collect_summary, print_summary

    print_summary(collect_summary(spec, lake, log, elapsed))
    for problem in log.unexpected:
        say(f"[demo] UNEXPECTED: {problem} (see {airflow_log})")
    return 1 if log.unexpected else 0


def _play(plan: DemoPlan, spec: Any) -> DemoLog:
    t = time.perf_counter()
    daily_dag, training_dag, rollback_dag = _load_dags(plan.pipeline)
    say(f"[demo] parsed dags/ ({time.perf_counter() - t:.2f}s); running {plan.days} days through Airflow")
    log = DemoLog()
    _quiet_logs()
    for number in range(1, plan.days + 1):
        day = plan.start + timedelta(days=number - 1)
        ds = day.isoformat()
        t = time.perf_counter()
        run = _run(daily_dag, logical_date=_midnight(day), run_after=_midnight(day + timedelta(days=1)))
        log.daily[ds] = run["state"]
        if run["failed"]:
            log.failures[ds] = run["failed"]
        if (number == plan.corrupt_day) != (run["failed"] == "validate"):
            log.unexpected.append(f"churn_daily {ds}: {run['state']} ({run['failed'] or 'no failed task'})")
        line = f"[day {number:2d}] {ds} churn_daily {run['state']:<7} ({time.perf_counter() - t:4.1f}s) {run['note']}"
        say(line)
        requested = run["tasks"].get("retraining_policy") == "success"
        if requested:
            log.retraining_requests.append(ds)
        reason = "bootstrap (manual)" if number == plan.first_training_day else (
            "retraining request (Asset event)" if requested else None)
        if reason:
            t = time.perf_counter()
            trun = _run(training_dag, logical_date=None, run_after=_midnight(day + timedelta(days=1)),
                        conf={"as_of": ds})
            verdict = {**(trun["xcom"].get("gate") or {}), **(trun["xcom"].get("publish") or {})}
            log.trainings.append({"ds": ds, "reason": reason, "state": trun["state"], **verdict})
            if trun["state"] != "success":
                log.unexpected.append(f"churn_training as of {ds}: {trun['state']} ({trun['failed']})")
            say(f"           churn_training {trun['state']:<7} ({time.perf_counter() - t:4.1f}s) {reason}: "
                f"v{verdict.get('candidate_version', '?')} {verdict.get('decision', trun['failed'] or '')}")
    _rollback_and_repromote(rollback_dag, plan, log)
    return log


def _rollback_and_repromote(rollback_dag: Any, plan: DemoPlan, log: DemoLog) -> None:
    """After the last day: roll the champion back one step, then re-promote it, both through the DAG."""
    promoted = [t for t in log.trainings if t.get("decision") == "PROMOTE" and t.get("champion_version")]
    if len(promoted) < 2:
        say("[demo] fewer than two promotions: no rollback to show")
        return
    newest = str(promoted[-1]["champion_version"])
    end = _midnight(plan.start + timedelta(days=plan.days))
    for label, conf in (
        ("rollback", {"version": None, "reason": f"demo: realized performance of v{newest} under review"}),
        ("re-promotion", {"version": newest, "reason": f"demo: review of v{newest} passed, restoring it"}),
    ):
        t = time.perf_counter()
        run = _run(rollback_dag, logical_date=None, run_after=end, conf=conf)
        result = run["xcom"].get("rollback") or {}
        log.registry_actions.append({"label": label, "state": run["state"], **result})
        if run["state"] != "success":
            log.unexpected.append(f"{rollback_dag.dag_id} ({label}): {run['state']} ({run['failed']})")
        say(f"[demo] {rollback_dag.dag_id} {run['state']:<7} ({time.perf_counter() - t:4.1f}s) {label}: champion "
            f"v{result.get('previous_champion', '?')} -> v{result.get('champion_version', '?')}")


def _load_dags(pipeline: str) -> tuple[Any, Any, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(project_root() / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    daily, training = bag.get_dag(f"{pipeline}_daily"), bag.get_dag(f"{pipeline}_training")
    rollback = bag.get_dag(f"{pipeline}_rollback")
    if daily is None or training is None or rollback is None:
        raise RuntimeError(f"dags/ has no {pipeline}_daily, {pipeline}_training and {pipeline}_rollback DAGs")
    for dag in (daily, training, rollback):
        for task in dag.tasks:
            # A failing task is a finding in the demo; waiting out production retry delays hides it.
            task.retries = 0
    return daily, training, rollback


def _midnight(day: date) -> datetime:
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def _run(dag: Any, *, logical_date: datetime | None, run_after: datetime, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag_run = dag.test(logical_date=logical_date, run_after=run_after, run_conf=conf)
    with create_session() as session:
        tis = {ti.task_id: ti for ti in dag_run.get_task_instances(session=session)}
        states = {task_id: str(ti.state) for task_id, ti in tis.items()}
        xcom = {}
        for row in session.query(XComModel).filter(
            XComModel.dag_id == dag.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == "return_value"
        ):
            xcom[row.task_id] = XComModel.deserialize_value(row)
    failed = sorted({task for task, state in states.items() if state == "failed"})
    return {"state": str(dag_run.state), "tasks": states, "xcom": xcom, "failed": ", ".join(failed),
            "note": _daily_note(states, xcom, failed)}


def _daily_note(states: dict[str, str], xcom: dict[str, Any], failed: list[str]) -> str:
    """One line on what a daily run did, from its task states and XComs."""
    if failed:
        return f"failed: {', '.join(failed)}"
    if states.get("plan_scoring") == "skipped":
        return "no champion yet: scoring and monitoring skipped"
    if "drift_check" not in xcom:
        return ""
    scored, drift = xcom.get("publish_predictions") or {}, xcom["drift_check"]
    note = (f"scored {scored.get('rows', 0)} rows with v{scored.get('model_version')}; "
            f"drift {'YES' if drift['dataset_drift'] else 'no '} (share {drift['drift_share']:.2f})")
    shadow = xcom.get("shadow_score") or {}
    if shadow.get("decision_agreement") is not None:
        note += f"; shadow v{shadow.get('challenger_version', '?')} agrees {shadow['decision_agreement']:.0%}"
    window = (xcom.get("realized_performance") or {}).get("window") or {}
    if window.get("roc_auc") is not None:
        note += f"; realized AUC {window['roc_auc']:.3f}"
    if (xcom.get("realized_performance") or {}).get("rolled_back"):
        note += "; ROLLED BACK"
    if states.get("retraining_policy") == "success":
        note += "; retraining requested"
    return note


def _quiet_logs() -> None:
    for name in ("airflow", "airflow.task", "sqlalchemy", "alembic", "mlflow", "great_expectations", "evidently"):
        logging.getLogger(name).setLevel(logging.WARNING)

