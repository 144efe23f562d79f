"""The lifecycle under Airflow's real scheduler on the embedded default, driven as a user drives it.

``ml-lifecycle up`` starts the scheduler (LocalExecutor on SQLite), DAG processor, triggerer, API server
and MLflow UI on free ports under a home of this module; everything after that goes through the REST API
the UI uses: backfills, a manual training run, the approval a person gives on the Required Actions page,
the training the scheduler starts from the retraining request Asset. ``ml-lifecycle down`` must leave no
process behind. The tests run in file order and build on each other the way a deployment's days do.

Six days from 2026-10-01 (the whole public table, ~1,170 rows a day), labels one day late, drift from
day 5; the pipeline spec is the shipped one with ``approval: required``, no training cool-down and two
retrainings a week (the first training, on day 3, would otherwise hold the drift's request back).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.stack import free_port
from ml_lifecycle.settings import project_root

pytestmark = pytest.mark.integration

DAILY, TRAINING = "churn_daily", "churn_training"
START = date(2026, 10, 1)
DAYS = 6
# No champion yet: scoring and monitoring skip; labels of days 1-2 have landed by day 3 (training needs
# two labelled days, one for the holdout).
BOOTSTRAP = [START + timedelta(days=n) for n in range(3)]
BACKFILL = [START + timedelta(days=n) for n in range(3, DAYS)]  # day 4 clean, days 5-6 drifted
MODEL = "churn_classifier"


class Embedded:
    """The services of one home, and the calls a user makes to them."""

    def __init__(self, home: Path, include: Path) -> None:
        self.home = home
        self.airflow_port, self.mlflow_port = free_port(), free_port()
        # Nothing of the test session's own Airflow/MLflow settings leaks into the services.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "ML_LIFECYCLE"))}
        self.env = {**base, "ML_LIFECYCLE_LOCAL_HOME": str(home), "ML_LIFECYCLE_INCLUDE_DIR": str(include),
                    "ML_LIFECYCLE_AIRFLOW_PORT": str(self.airflow_port),
                    "ML_LIFECYCLE_MLFLOW_PORT": str(self.mlflow_port)}

    def cli(self, *args: str, timeout: float = 420) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "ml_lifecycle.cli", *args], env=self.env, text=True,
                              capture_output=True, timeout=timeout, cwd=project_root())
        assert done.returncode == 0, f"ml-lifecycle {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def airflow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Airflow's own CLI with the services' settings, as a user who ran ``eval $(ml-lifecycle env)`` would."""
        exports = self.cli("env").stdout
        env = dict(self.env)
        for line in exports.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0] if value else ""
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, text=True, capture_output=True,
                              timeout=timeout, cwd=project_root())
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def api(self) -> Any:
        from ml_lifecycle.embedded import api

        return api

    def mlflow_alias(self, alias: str) -> str | None:
        query = urllib.parse.urlencode({"name": MODEL, "alias": alias})
        url = f"http://127.0.0.1:{self.mlflow_port}/api/2.0/mlflow/registered-models/alias?{query}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return str(json.loads(response.read())["model_version"]["version"])
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def service_pids(self) -> dict[str, int | None]:
        """Each service's own process (from its pid file), without the task processes it forked."""
        from ml_lifecycle.embedded.services import running_pid, services

        return {service.name: running_pid(service, self.home) for service in services()}

    def service_processes(self) -> list[Any]:
        from ml_lifecycle.embedded.services import service_processes

        return service_processes(self.home)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    root = tmp_path_factory.mktemp("embedded")
    include = root / "include"
    shutil.copytree(project_root() / "include", include)
    spec_file = include / "pipelines" / "churn.yaml"
    text = spec_file.read_text()
    text = text.replace("approval: none ", "approval: required ").replace(
        "training_cooldown_days: 3 ", "training_cooldown_days: 0 ").replace("max_per_week: 1 ", "max_per_week: 2 ")
    assert "approval: required" in text and "training_cooldown_days: 0" in text and "max_per_week: 2" in text
    spec_file.write_text(text)
    stack = Embedded(root / "home", include)
    stack.cli("simulate", "--pipeline", "churn", "--start", START.isoformat(), "--days", str(DAYS),
              "--label-delay-days", "1", "--drift-start-day", "5")
    started = stack.cli("up")
    print(started.stdout)
    previous = os.environ.get("ML_LIFECYCLE_AIRFLOW_PORT")
    os.environ["ML_LIFECYCLE_AIRFLOW_PORT"] = str(stack.airflow_port)  # the REST client's target
    try:
        yield stack
    finally:
        processes = stack.service_processes()
        down = subprocess.run([sys.executable, "-m", "ml_lifecycle.cli", "down"], env=stack.env, text=True,
                              capture_output=True, timeout=120, cwd=project_root())
        if previous is None:
            os.environ.pop("ML_LIFECYCLE_AIRFLOW_PORT", None)
        else:
            os.environ["ML_LIFECYCLE_AIRFLOW_PORT"] = previous
        alive = [p for p in processes if p.is_running() and p.status() != "zombie"]
        for process in alive:  # never leave a stray scheduler on the machine, even when the check fails
            process.kill()
        from ml_lifecycle.embedded.services import port_holder

        held = {port: holder for port in (stack.airflow_port, stack.mlflow_port) if (holder := port_holder(port))}
        assert down.returncode == 0, down.stderr
        assert not alive, f"`ml-lifecycle down` left {[(p.pid, p.name()) for p in alive]} running"
        assert not held, f"ports still listening after `ml-lifecycle down`: {held}"


def _backfill(embedded: Embedded, days: list[date]) -> list[dict[str, Any]]:
    api = embedded.api()
    api.backfill(DAILY, from_date=days[0], to_date=days[-1])
    wanted = {day.isoformat() for day in days}
    runs: list[dict[str, Any]] = api.wait_for(lambda: api.finished_runs(DAILY, wanted),
                                              f"backfill of {sorted(wanted)}", timeout=120 * len(days), interval=2)
    assert {run["run_type"] for run in runs} == {"backfill"}
    return runs


def _assert_one_after_the_other(runs: list[dict[str, Any]]) -> None:
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert datetime.fromisoformat(later["start_date"]) >= datetime.fromisoformat(earlier["end_date"]), (
            f"{later['logical_date']} started before {earlier['logical_date']} ended")


def _approve_when_asked(embedded: Embedded, run_id: str) -> dict[str, Any]:
    api = embedded.api()

    def asked() -> dict[str, Any] | None:
        waiting = [d for d in api.pending_approvals(TRAINING) if d["task_instance"]["dag_run_id"] == run_id]
        if waiting:
            return dict(waiting[0])
        states = _states(embedded, TRAINING, run_id)
        if api.dag_run(TRAINING, run_id)["state"] in api.FINISHED or {"failed", "up_for_retry"} & set(states.values()):
            raise AssertionError(f"{run_id} did not get to its approval: {states}")
        return None

    detail: dict[str, Any] = api.wait_for(asked, f"{run_id} to ask for approval", timeout=300, interval=2)
    # What the Required Actions page shows, and the answer a person clicks.
    assert detail["subject"].startswith(f"Promote {MODEL} v")
    assert detail["options"] == ["Approve", "Reject"]
    api.answer_approval(TRAINING, run_id, detail["task_instance"]["task_id"], "Approve", asked_at=detail["created_at"])
    return detail


def _task(embedded: Embedded, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    return next(ti for ti in embedded.api().task_instances(dag_id, run_id) if ti["task_id"] == task_id)


def _states(embedded: Embedded, dag_id: str, run_id: str) -> dict[str, str | None]:
    return {ti["task_id"]: ti["state"] for ti in embedded.api().task_instances(dag_id, run_id)}


def test_up_brings_every_service_up_and_unpauses_the_pipelines(embedded):
    rows = embedded.cli("ps").stdout
    for service in ("api-server", "dag-processor", "scheduler", "triggerer", "mlflow"):
        assert service in rows
    api = embedded.api()
    paused = {dag["dag_id"]: dag["is_paused"] for dag in api.request("GET", "/dags", query={"limit": 100})["dags"]}
    assert paused[DAILY] is False and paused[TRAINING] is False
    before = embedded.service_pids()
    again = embedded.cli("up", timeout=60)
    assert again.stdout.startswith("already up and healthy:"), again.stdout  # a second `up` is a no-op
    assert embedded.service_pids() == before


def test_nothing_listens_beyond_loopback(embedded):
    import psutil

    ours = {p.pid for p in embedded.service_processes()}
    listening = [(c.pid, c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in ours]
    # The API server and MLflow, nothing else: the scheduler's and triggerer's log servers are off.
    assert {port for _, _, port in listening} == {embedded.airflow_port, embedded.mlflow_port}, listening
    assert {ip for _, ip, _ in listening} == {"127.0.0.1"}, listening


def test_up_restarts_only_the_service_that_died(embedded):
    by_name = embedded.service_pids()
    os.killpg(by_name["triggerer"], signal.SIGKILL)
    again = embedded.cli("up", timeout=120)
    started = [line.split(" (")[0] for line in again.stdout.splitlines() if line.startswith("started ")]
    assert started == ["started triggerer"], again.stdout
    after = embedded.service_pids()
    assert after["triggerer"] not in (None, by_name["triggerer"])
    assert {k: v for k, v in after.items() if k != "triggerer"} == {
        k: v for k, v in by_name.items() if k != "triggerer"}


def test_bootstrap_backfill_runs_its_days_in_order_with_monitoring_skipped(embedded):
    runs = _backfill(embedded, BOOTSTRAP)
    assert [run["state"] for run in runs] == ["success"] * 3, [
        _states(embedded, DAILY, run["dag_run_id"]) for run in runs]
    _assert_one_after_the_other(runs)
    states = _states(embedded, DAILY, runs[-1]["dag_run_id"])
    assert states["validate"] == "success" and states["plan_scoring"] == "skipped"
    assert states["retraining_policy"] == "skipped"


def test_manual_training_waits_for_approval_and_the_approval_promotes(embedded):
    api = embedded.api()
    run = api.trigger(TRAINING, conf={"as_of": BOOTSTRAP[-1].isoformat()})
    assert embedded.mlflow_alias("champion") is None
    detail = _approve_when_asked(embedded, run["dag_run_id"])
    done = api.wait_for_run(TRAINING, run["dag_run_id"], timeout=300)
    assert done["state"] == "success", _states(embedded, TRAINING, run["dag_run_id"])
    assert embedded.mlflow_alias("champion") == "1"
    assert "v1" in detail["subject"]


def test_a_backfill_made_by_hand_runs_in_date_order_and_the_policy_reads_each_earlier_day(embedded):
    api = embedded.api()
    # Airflow's own command without --max-active-runs: up to 10 days may start at once; wait_for_landing
    # holds each day until the day before has finished. Airflow refuses it until the scheduler has marked
    # the bootstrap backfill complete (every 30 s), as a user who just ran one would be told.
    api.wait_for_finished_backfills(DAILY)
    embedded.airflow("backfill", "create", "--dag-id", DAILY, "--from-date", BACKFILL[0].isoformat(),
                     "--to-date", BACKFILL[-1].isoformat())
    wanted = {day.isoformat() for day in BACKFILL}
    runs = api.wait_for(lambda: api.finished_runs(DAILY, wanted), f"backfill of {sorted(wanted)}",
                        timeout=180 * len(BACKFILL), interval=2)
    assert {run["run_type"] for run in runs} == {"backfill"}
    starts = [datetime.fromisoformat(run["start_date"]) for run in runs]
    assert max(starts) < min(datetime.fromisoformat(run["end_date"]) for run in runs), "not started at once"
    ingested = [datetime.fromisoformat(_task(embedded, DAILY, run["dag_run_id"], "ingest")["start_date"])
                for run in runs]
    for earlier, later_ingest in zip(runs, ingested[1:], strict=False):
        assert later_ingest >= datetime.fromisoformat(earlier["end_date"]), (
            f"the day after {earlier['logical_date']} ingested before that day's run ended")
    assert [run["state"] for run in runs] == ["success"] * 3, [
        _states(embedded, DAILY, run["dag_run_id"]) for run in runs]
    drift = [api.xcom(DAILY, run["dag_run_id"], "drift_check")["dataset_drift"] for run in runs]
    assert drift == [False, True, True]
    policy = [_states(embedded, DAILY, run["dag_run_id"])["retraining_policy"] for run in runs]
    assert policy == ["skipped", "skipped", "success"]
    # Day 6's decision counted day 5's drift: the policy saw the earlier day of the same backfill.
    decision = api.xcom(DAILY, runs[-1]["dag_run_id"], "retraining_policy")
    assert decision["retrain"] is True and decision["drift_days"] == 2


def test_the_retraining_request_starts_training_and_a_person_approves_it(embedded):
    api = embedded.api()

    def asset_run() -> dict[str, Any] | None:
        runs = [run for run in api.dag_runs(TRAINING) if run["run_type"] == "asset_triggered"]
        return runs[0] if runs else None

    run = api.wait_for(asset_run, "the scheduler to start churn_training from the retraining request",
                       timeout=120, interval=2)
    def gate_done() -> dict[str, Any] | None:
        return api.xcom(TRAINING, run["dag_run_id"], "gate")

    verdict = api.wait_for(gate_done, "the gate's verdict", timeout=300, interval=2)
    if verdict["decision"] == "PROMOTE":
        _approve_when_asked(embedded, run["dag_run_id"])
    done = api.wait_for_run(TRAINING, run["dag_run_id"], timeout=300)
    assert done["state"] == "success", _states(embedded, TRAINING, run["dag_run_id"])
    expected = str(verdict["candidate_version"]) if verdict["decision"] == "PROMOTE" else "1"
    assert embedded.mlflow_alias("champion") == expected


def test_status_shows_services_aliases_runs_the_last_drift_verdict_and_open_alerts(embedded):
    report = json.loads(embedded.cli("status", "--pipeline", "churn", "--json").stdout)
    assert {row["service"]: row["health"] for row in report["services"]} == {
        name: "healthy" for name in ("api-server", "dag-processor", "scheduler", "triggerer", "mlflow")}
    assert report["runs_from"] == "rest-api" and list(report["pipelines"]) == ["churn"]
    churn = report["pipelines"]["churn"]
    assert str(churn["champion"]) == embedded.mlflow_alias("champion")
    daily = {run["logical_date"]: run["state"] for run in churn["runs"][DAILY]}
    assert daily[BACKFILL[-1].isoformat()] == "success"
    assert churn["last_drift"]["ds"] == BACKFILL[-1].isoformat() and churn["last_drift"]["dataset_drift"] is True
    assert any(alert.startswith("dataset drift on the last 2 report day(s)") for alert in churn["alerts"]), churn
    text = embedded.cli("status").stdout  # every pipeline, as text
    assert "churn: champion v" in text and "credit: champion v-" in text and "last drift verdict:" in text
    assert "no champion: daily runs skip scoring" in text  # credit has never been trained here
