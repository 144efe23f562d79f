"""Start, watch and stop the embedded default's services as background processes of this checkout.

``up`` starts Airflow's API server, DAG processor, scheduler (LocalExecutor on SQLite) and triggerer and
the MLflow UI, each in its own session with a pid file under ``.local/run/`` and a log under
``.local/logs/``; waits until the API server reports every Airflow component healthy and MLflow answers;
then unpauses the pipelines' DAGs. ``down`` stops exactly the processes ``up`` started (and the task
processes they forked), ``ps`` says what runs. A second ``up`` while everything is healthy does nothing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_lifecycle.settings import (
    ENV_SCHEDULER_PRELOAD,
    airflow_port,
    embedded_environment,
    local_home,
    mlflow_port,
    project_root,
)

STOP_GRACE_SECONDS = 30.0


class ServiceError(RuntimeError):
    """A service did not start or did not become healthy; the message names it and its log."""


@dataclass(frozen=True)
class Service:
    name: str
    argv: tuple[str, ...]
    # The component's name in the API server's /api/v2/monitor/health answer; None: checked by URL.
    airflow_component: str | None = None
    health_url: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    # The loopback port it listens on (checked free before it starts); None: it listens nowhere.
    port: int | None = None

    def pid_file(self, home: Path) -> Path:
        return home / "run" / f"{self.name}.pid"

    def log_file(self, home: Path) -> Path:
        return home / "logs" / f"{self.name}.log"


def airflow_url() -> str:
    return f"http://localhost:{airflow_port()}"


def mlflow_url() -> str:
    return f"http://localhost:{mlflow_port()}"


def scheduler_preload() -> bool:
    """Whether the scheduler imports the task libraries before its executor forks (``embedded.scheduler``);
    ``ML_LIFECYCLE_SCHEDULER_PRELOAD=0`` runs Airflow's plain ``scheduler`` (each task imports them)."""
    return os.environ.get(ENV_SCHEDULER_PRELOAD, "1") != "0"


def services() -> list[Service]:
    """In start order: the API server first, because task processes report to it.

    Every listener is bound to 127.0.0.1; the scheduler's and triggerer's log servers, which Airflow binds
    to every interface (:8793, :8794), are off (``--skip-serve-logs``): on one machine the API server
    reads the task logs from ``.local/airflow/logs`` itself."""
    env = embedded_environment()
    home = Path(env["ML_LIFECYCLE_LOCAL_HOME"])
    python = sys.executable
    scheduler = ((python, "-m", "ml_lifecycle.cli", "scheduler") if scheduler_preload()
                 else (python, "-m", "airflow", "scheduler"))
    return [
        Service("api-server", (python, "-m", "airflow", "api-server", "--host", "127.0.0.1",
                               "--port", str(airflow_port()), "--workers", "1"),
                health_url=f"{airflow_url()}/api/v2/monitor/health", port=airflow_port()),
        Service("dag-processor", (python, "-m", "airflow", "dag-processor"), airflow_component="dag_processor"),
        Service("scheduler", (*scheduler, "--skip-serve-logs"), airflow_component="scheduler"),
        Service("triggerer", (python, "-m", "airflow", "triggerer", "--skip-serve-logs"),
                airflow_component="triggerer"),
        Service("mlflow", (python, "-m", "mlflow", "server", "--backend-store-uri", env["MLFLOW_TRACKING_URI"],
                           "--default-artifact-root", (home / "mlflow" / "artifacts").as_uri(),
                           "--host", "127.0.0.1", "--port", str(mlflow_port()), "--workers", "1"),
                health_url=f"{mlflow_url()}/health", port=mlflow_port(),
                # MLflow's job runner (GenAI jobs, unused here) would start seven more processes (~1.8 GB).
                env=(("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"),)),
    ]


def port_holder(port: int) -> str | None:
    """None when 127.0.0.1:``port`` is free to listen on, else who holds it, for the user."""
    import psutil

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", port))
            return None
        except OSError:
            pass
    try:
        listeners = [c for c in psutil.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port]
    except psutil.AccessDenied:
        listeners = []
    for connection in listeners:
        if connection.pid:
            try:
                process = psutil.Process(connection.pid)
                command = " ".join(process.cmdline()[:6]) or process.name()
            except psutil.Error:
                command = "?"
            return f"pid {connection.pid} ({command}) listening on {connection.laddr.ip}:{port}"
    return "a process this user cannot see"


# ---- processes -----------------------------------------------------------------------------------
def running_pid(service: Service, home: Path) -> int | None:
    """The pid in the service's pid file, if that process still runs this service (not a reused pid)."""
    import psutil

    path = service.pid_file(home)
    try:
        pid = int(path.read_text().strip())
        written = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        born = process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    # The pid file is written right after the process starts; a process born at another time holds a
    # reused pid (services retitle themselves, so the command line cannot tell).
    return pid if abs(written - born) < 30 else None


def _start(service: Service, home: Path, env: dict[str, str]) -> int:
    service.log_file(home).parent.mkdir(parents=True, exist_ok=True)
    service.pid_file(home).parent.mkdir(parents=True, exist_ok=True)
    with service.log_file(home).open("ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} ml-lifecycle up: {' '.join(service.argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(service.argv, env={**env, **dict(service.env)}, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, cwd=project_root())
    tmp = service.pid_file(home).with_suffix(".pid.tmp")
    tmp.write_text(f"{process.pid}\n")
    tmp.replace(service.pid_file(home))
    return process.pid


def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def service_processes(home: Path) -> list[Any]:
    """The live processes of ``home``'s services and everything they forked (task processes included)."""
    return [process for service in services() if (pid := running_pid(service, home)) is not None
            for process in _tree(pid)]


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_service(service: Service, home: Path, *, grace: float = STOP_GRACE_SECONDS) -> str:
    """SIGTERM the service and every process it started (task processes have groups of their own),
    SIGKILL what is left after ``grace`` seconds. Returns what happened, for the user."""
    import psutil

    pid = running_pid(service, home)
    service.pid_file(home).unlink(missing_ok=True)
    if pid is None:
        return "not running"
    # The service leads a session and process group of its own (``start_new_session``); Airflow's task
    # processes start groups of their own, so its tree is signalled too.
    tree = _tree(pid)
    _signal_group(pid, signal.SIGTERM)
    for process in tree:
        try:
            process.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=grace)
    _signal_group(pid, signal.SIGKILL)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    return f"stopped (pid {pid}{f', {len(alive)} killed after {grace:.0f} s' if alive else ''})"


# ---- health --------------------------------------------------------------------------------------
def _get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body.strip().startswith((b"{", b"[")) else body.decode(errors="replace")


def health(*, since: float | None = None, restarted: Iterable[str] = ()) -> dict[str, str]:
    """Each service's health as the user would judge it: 'healthy', 'unhealthy' or 'unreachable'.

    For the Airflow components in ``restarted``, 'starting' until their latest heartbeat is later than
    ``since`` (a Unix time): right after a restart the API server still reports the dead process's last
    heartbeat as healthy."""
    from datetime import datetime

    states: dict[str, str] = {}
    try:
        airflow = _get_json(f"{airflow_url()}/api/v2/monitor/health")
        states["api-server"] = "healthy"
    except (OSError, ValueError):
        airflow = None
        states["api-server"] = "unreachable"
    for service in services():
        if service.airflow_component:
            component = (airflow or {}).get(service.airflow_component) or {}
            states[service.name] = str(component.get("status") or "unreachable")
            beat = component.get(f"latest_{service.airflow_component}_heartbeat")
            if service.name in restarted and since is not None and states[service.name] == "healthy" and (
                    not beat or datetime.fromisoformat(beat).timestamp() < since):
                states[service.name] = "starting"
    try:
        _get_json(f"{mlflow_url()}/health")
        states["mlflow"] = "healthy"
    except (OSError, ValueError):
        states["mlflow"] = "unreachable"
    return states


def _wait(check: Callable[[], bool], what: str, *, timeout: float, watch: Iterable[Service], home: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for service in watch:
            if running_pid(service, home) is None:
                raise ServiceError(f"{service.name} exited while waiting for {what}; its log "
                                   f"{service.log_file(home)} ends with:\n{_tail(service.log_file(home))}")
        if time.monotonic() > deadline:
            raise ServiceError(f"timed out after {timeout:.0f} s waiting for {what}; logs under {home / 'logs'}")
        time.sleep(0.5)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def use_write_ahead_log(sql_alchemy_conn: str) -> None:
    """Switch a SQLite metadata DB to WAL (kept in the file): readers then never block the one writer,
    so the API server answers the UI while tasks and the scheduler write."""
    if not sql_alchemy_conn.startswith("sqlite:///"):
        return
    import sqlite3

    with sqlite3.connect(sql_alchemy_conn.removeprefix("sqlite:///").split("?", 1)[0], timeout=30) as db:
        db.execute("PRAGMA journal_mode=WAL")


# ---- the commands --------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpResult:
    started: list[str]
    already_running: list[str]
    unpaused: list[str]
    seconds: float


def pipeline_dag_ids() -> list[str]:
    """The DAGs of this checkout (one per file stem in ``dags/``), which ``up`` unpauses."""
    return sorted(path.stem for path in (project_root() / "dags").glob("*.py") if not path.name.startswith("_"))


def up(*, timeout: float = 300, say: Callable[[str], None] = print) -> UpResult:
    """Start what is not running, wait until all is healthy, unpause the pipelines' DAGs. Idempotent."""
    started_at = time.monotonic()
    env = {**os.environ, **embedded_environment(), "PYTHONUNBUFFERED": "1"}
    home = Path(env["ML_LIFECYCLE_LOCAL_HOME"])
    for sub in ("airflow", "mlflow/artifacts", "lake", "run", "logs"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    every = services()
    running = {service.name for service in every if running_pid(service, home) is not None}
    if running == {service.name for service in every} and set(health().values()) == {"healthy"}:
        return UpResult([], sorted(running), [], time.monotonic() - started_at)
    missing = [service for service in every if service.name not in running]
    taken = [f"port {service.port} for {service.name} is taken by {holder}" for service in missing
             if service.port is not None and (holder := port_holder(service.port))]
    if taken:
        raise ServiceError("; ".join(taken) + ". Stop it, or choose other ports with ML_LIFECYCLE_AIRFLOW_PORT "
                           "and ML_LIFECYCLE_MLFLOW_PORT (tasks reach the API server on the Airflow port).")
    if any(service.name in {"api-server", "scheduler", "dag-processor"} for service in missing):
        say("airflow db migrate (SQLite metadata DB under .local/airflow/) ...")
        done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise ServiceError(f"airflow db migrate failed ({done.returncode}):\n{done.stderr[-3000:]}")
        use_write_ahead_log(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    starting = time.time()
    for service in missing:
        pid = _start(service, home, env)
        say(f"started {service.name} (pid {pid}, log {service.log_file(home)})")
    restarted = [service.name for service in missing]
    _wait(lambda: all(state == "healthy" for state in health(since=starting, restarted=restarted).values()),
          "every service to report healthy", timeout=timeout, watch=every, home=home)
    from ml_lifecycle.embedded import api

    wanted = pipeline_dag_ids()
    _wait(lambda: set(wanted) <= set(api.dag_ids()), f"the DAG processor to parse {', '.join(wanted)}",
          timeout=timeout, watch=every, home=home)
    unpaused = [dag_id for dag_id in wanted if api.unpause(dag_id)]
    return UpResult([s.name for s in missing], sorted(running), unpaused, time.monotonic() - started_at)


def down(*, say: Callable[[str], None] = print) -> dict[str, str]:
    home = local_home().resolve()
    # The scheduler first, so no new task process starts while the others stop.
    order = ["scheduler", "triggerer", "dag-processor", "api-server", "mlflow"]
    by_name = {service.name: service for service in services()}
    outcome = {}
    for name in order:
        outcome[name] = stop_service(by_name[name], home)
        say(f"{name}: {outcome[name]}")
    return outcome


def ps() -> list[dict[str, Any]]:
    home = local_home().resolve()
    states = health()
    rows = []
    for service in services():
        pid = running_pid(service, home)
        rows.append({"service": service.name, "pid": pid, "process": "running" if pid else "stopped",
                     "health": states.get(service.name, "?"), "log": str(service.log_file(home))})
    return rows


def urls_banner() -> str:
    return (f"Airflow UI: {airflow_url()}  (simple auth manager, every local user is admin: no login)\n"
            f"MLflow UI:  {mlflow_url()}\n"
            f"Logs: {local_home().resolve() / 'logs'}   Stop: make down (or ml-lifecycle down)")


__all__ = ["ServiceError", "UpResult", "down", "health", "ps", "service_processes", "services", "up", "urls_banner"]
