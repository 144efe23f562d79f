"""The scale-out deployment on this machine's real services, started as plain processes.

The same layout as ``docker-compose.yaml``, minus the containers: Airflow's metadata DB on PostgreSQL,
CeleryExecutor with Redis as broker and a real ``airflow celery worker``, the api-server (which also
serves the Execution API the workers talk to), scheduler and dag-processor, and an ``mlflow server``
with a PostgreSQL backend store, reached over HTTP through the ``mlflow_default`` connection. Each
stack creates its own databases, Redis database and Celery queue, and drops them when it stops, so
two stacks never see each other's runs.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ml_lifecycle.settings import embedded_environment, project_root

PG_DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379"
VENV_BIN = Path(project_root()) / ".venv" / "bin"

T = TypeVar("T")


class StackError(RuntimeError):
    """A service did not start, or a run did not reach the state a test waited for."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_DSN["host"], PG_DSN["port"]), timeout=2):
            return True
    except OSError:
        return False


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def admin_sql(statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", **PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


@dataclass
class Service:
    name: str
    argv: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        # Its own process group, so a stop (or a SIGKILL in a fault test) reaches the children too:
        # the celery pool and the task processes it forks.
        self.process = subprocess.Popen(self.argv, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        handle.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 30) -> None:
        if not self.alive:
            return
        assert self.process is not None
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL the service and every process it started, as when its machine dies.

        Airflow puts each task process in a process group of its own, so the whole tree is collected
        first: no clean-up handler of ours, Celery's or Airflow's gets to run.
        """
        import psutil

        if self.process is None:
            return
        try:
            tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for proc in tree:
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.process.wait(10)
        psutil.wait_procs(tree, timeout=10)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ScaleOutStack:
    home: Path
    tag: str = field(default_factory=lambda: f"mlci_{os.getpid()}_{secrets.token_hex(3)}")
    services: dict[str, Service] = field(default_factory=dict)
    expect_down: bool = False  # a fault test stopped a service on purpose

    def __post_init__(self) -> None:
        self.home = self.home.resolve()
        self.airflow_db = f"{self.tag}_airflow"
        self.mlflow_db = f"{self.tag}_mlflow"
        self.api_port = free_port()
        self.mlflow_port = free_port()
        self.redis_db = 1 + os.getpid() % 15
        self.queue = self.tag
        self.lake = self.home / "lake"
        self.env = self._environment()

    # ---- configuration ---------------------------------------------------------------------
    @property
    def airflow_sql_uri(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.airflow_db}"

    @property
    def mlflow_sql_uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.mlflow_db}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    def _environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "ML_LIFECYCLE"))}
        project = embedded_environment(self.home)
        ours = {key: value for key, value in project.items() if key.startswith("ML_LIFECYCLE")}
        ours.update({
            "PATH": f"{VENV_BIN}:{base.get('PATH', '')}",
            "ML_LIFECYCLE_LAKE_ROOT": str(self.lake),
            "AIRFLOW_HOME": str(self.home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(project_root() / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(project_root() / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.airflow_sql_uri,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL}/{self.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{self.airflow_db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "ml_lifecycle.celery_config.CELERY_CONFIG",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__CORE__FERNET_KEY": "",
            # Faster than production so a test observes retries and lost workers within a minute.
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__ML_LIFECYCLE__LANDING_POKE_INTERVAL": "3",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(
                {"conn_type": "http", "host": "127.0.0.1", "port": self.mlflow_port,
                 "extra": {"ui_url": self.mlflow_url}}
            ),
            # MLflow's client retries a refused connection for minutes by default; Airflow's retries
            # are the ones that should bring a task back after an outage.
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "GIT_PYTHON_REFRESH": "quiet",
            "PYTHONUNBUFFERED": "1",
        })
        return {**base, **ours}

    # ---- lifecycle -------------------------------------------------------------------------
    def create(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.lake.mkdir(parents=True, exist_ok=True)
        for db in (self.airflow_db, self.mlflow_db):
            admin_sql(f'CREATE DATABASE "{db}"')
        self.airflow("db", "migrate", timeout=600)

    def start(self) -> None:
        artifacts = self.home / "mlflow-artifacts"
        self._add("mlflow", ["mlflow", "server", "--backend-store-uri", self.mlflow_sql_uri,
                             "--artifacts-destination", str(artifacts), "--serve-artifacts",
                             "--host", "127.0.0.1", "--port", str(self.mlflow_port), "--workers", "1"])
        self._add("api-server", ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port),
                                 "--workers", "1"])
        self._add("dag-processor", ["airflow", "dag-processor"])
        self._add("scheduler", ["airflow", "scheduler"])
        self._add("worker", ["airflow", "celery", "worker", "--queues", self.queue, "--concurrency", "2",
                             "--without-gossip", "--without-mingle", "--skip-serve-logs"])
        for service in self.services.values():
            service.start(self.env)
        self.wait_for_http(f"{self.mlflow_url}/health", "mlflow server", timeout=180)
        self.wait_for_http(f"{self.api_url}/api/v2/monitor/health", "airflow api-server", timeout=240)

    def _add(self, name: str, argv: Sequence[str]) -> None:
        self.services[name] = Service(name, [str(VENV_BIN / argv[0]), *argv[1:]], self.home / "logs" / f"{name}.log")

    def restart(self, name: str) -> None:
        service = self.services[name]
        service.stop()
        service.start(self.env)
        if name == "mlflow":
            self.wait_for_http(f"{self.mlflow_url}/health", "mlflow server", timeout=180)

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

    def destroy(self) -> None:
        self.stop()
        for db in (self.airflow_db, self.mlflow_db):
            try:
                admin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except Exception:  # a failed drop must not hide the test's own result
                pass
        try:
            import redis

            redis.Redis.from_url(f"{REDIS_URL}/{self.redis_db}").flushdb()
        except Exception:
            pass

    def diagnostics(self) -> str:
        return "\n".join(f"---- {s.name} (alive={s.alive}) ----\n{s.tail()}" for s in self.services.values())

    # ---- commands and queries --------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(VENV_BIN / "airflow"), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise StackError(f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(dbname=self.airflow_db, **PG_DSN)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def wait_for_http(self, url: str, what: str, *, timeout: float) -> None:
        def answered() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        self.wait(answered, f"{what} at {url}", timeout=timeout)

    def wait(self, check: Callable[[], T], what: str, *, timeout: float, interval: float = 1.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            dead = [s.name for s in self.services.values() if s.process is not None and not s.alive]
            if dead and not self.expect_down:
                raise StackError(f"waiting for {what}: service(s) {dead} exited\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.diagnostics()}")
            time.sleep(interval)

    # ---- Airflow state ---------------------------------------------------------------------
    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        rows = self.sql(
            "select run_id, run_type, state, logical_date::date::text, backfill_id from dag_run "
            "where dag_id = %s order by logical_date nulls last, id", (dag_id,))
        return [dict(zip(("run_id", "run_type", "state", "ds", "backfill_id"), row, strict=True)) for row in rows]

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.sql("select state from dag_run where dag_id = %s and run_id = %s", (dag_id, run_id))
        return rows[0][0] if rows else None

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout: float = 600) -> str:
        def finished() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        state = self.wait(finished, f"{dag_id} run {run_id} to finish", timeout=timeout, interval=2)
        return state

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        rows = self.sql("select task_id, map_index, state from task_instance where dag_id = %s and run_id = %s",
                        (dag_id, run_id))
        return {(task if index < 0 else f"{task}[{index}]"): state for task, index, state in rows}

    def task_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[str | None]:
        """The state of every try of a task, oldest first (task_instance_history + the current one)."""
        key = (dag_id, run_id, task_id, map_index)
        past = self.sql("select state from task_instance_history where dag_id = %s and run_id = %s "
                        "and task_id = %s and map_index = %s order by try_number", key)
        now = self.sql("select state from task_instance where dag_id = %s and run_id = %s and task_id = %s "
                       "and map_index = %s", key)
        return [row[0] for row in past] + [row[0] for row in now]

    def trigger(self, dag_id: str, *, logical_date: str | None = None, conf: dict[str, Any] | None = None,
                run_id: str | None = None) -> str:
        args = ["dags", "trigger", dag_id, "--output", "json"]
        if logical_date:
            args += ["--logical-date", logical_date]
        if conf:
            args += ["--conf", json.dumps(conf)]
        if run_id:
            args += ["--run-id", run_id]
        out = self.airflow(*args).stdout
        start = out.find("[{")
        return str(json.loads(out[start:])[0]["dag_run_id"])
