"""Where things live: the checkout, the spec folder, the lake, and the embedded default's services.

Every location can be overridden by an environment variable so the same code runs in a checkout,
in the container image, and in tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV_PROJECT_ROOT = "ML_LIFECYCLE_PROJECT_ROOT"
ENV_INCLUDE_DIR = "ML_LIFECYCLE_INCLUDE_DIR"
ENV_LOCAL_HOME = "ML_LIFECYCLE_LOCAL_HOME"
ENV_LAKE_ROOT = "ML_LIFECYCLE_LAKE_ROOT"
ENV_LAKE_CACHE = "ML_LIFECYCLE_LAKE_CACHE"
ENV_LAKE_STORAGE_OPTIONS = "ML_LIFECYCLE_LAKE_STORAGE_OPTIONS"
ENV_AIRFLOW_PORT = "ML_LIFECYCLE_AIRFLOW_PORT"
ENV_MLFLOW_PORT = "ML_LIFECYCLE_MLFLOW_PORT"
ENV_SCHEDULER_PRELOAD = "ML_LIFECYCLE_SCHEDULER_PRELOAD"
MLFLOW_CONN_ID = "mlflow_default"
# What every task process would otherwise import again (~20 s per process): the process the executor
# forks its workers from imports it once (embedded.scheduler; celery_config for Celery workers).
TASK_PRELOAD_MODULE = "ml_lifecycle.embedded.preload"
# SQLite lets one writer in at a time and its driver gives up after 5 s: with the scheduler, the API
# server and four task processes writing, a UI trigger got "database is locked" (HTTP 500) while a task
# wrote its rendered fields. Waiting up to 30 s (and WAL, set on the file by ``up``) serialises them.
# Airflow's [database] sql_alchemy_connect_args names this dict by import path.
SQLITE_CONNECT_ARGS: dict[str, object] = {"timeout": 30}


def create_metadata_engine(sql_alchemy_conn: str, *, engine_args: dict[str, Any],
                           connect_args: dict[str, Any]) -> Any:
    """Airflow's metadata engine (``airflow_local_settings.create_metadata_engine``, which every Airflow
    process of this bundle imports, the user's own ``airflow backfill create`` included), and on SQLite a
    write lock taken before a SAVEPOINT that would start a transaction.

    Airflow creates a backfill's runs in nested transactions (``begin_nested``) that read, then write. On
    SQLite a SAVEPOINT outside a transaction starts a deferred one: the read takes a snapshot, and the write
    fails at once with "database is locked" when the scheduler (which writes ten times a second here) has
    committed since, whatever the busy timeout (checked: `airflow backfill create` failed on every try with
    the services up). ``BEGIN IMMEDIATE`` first waits for the write lock instead, up to the timeout.
    """
    from sqlalchemy import create_engine, event

    engine = create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args, future=True)
    if engine.dialect.name == "sqlite":
        def write_lock_before_savepoint(connection: Any, name: str) -> None:
            driver = connection.connection.dbapi_connection
            if not driver.in_transaction:
                driver.execute("BEGIN IMMEDIATE")

        event.listen(engine, "savepoint", write_lock_before_savepoint)
    return engine


def project_root() -> Path:
    configured = os.environ.get(ENV_PROJECT_ROOT)
    # plugins/ml_lifecycle/settings.py -> the checkout; the package is installed editable from plugins/
    return Path(configured) if configured else Path(__file__).resolve().parents[2]


def include_dir() -> Path:
    configured = os.environ.get(ENV_INCLUDE_DIR)
    return Path(configured) if configured else project_root() / "include"


def local_home() -> Path:
    """The one gitignored folder that holds all state of the embedded default."""
    configured = os.environ.get(ENV_LOCAL_HOME)
    return Path(configured) if configured else project_root() / ".local"


def lake_location() -> str:
    """The lake's root as configured: a local folder, or any fsspec URI such as ``s3://bucket/prefix``."""
    return os.environ.get(ENV_LAKE_ROOT) or str(local_home() / "lake")


def lake_cache_dir(uri: str) -> Path:
    """The local folder that holds downloaded partitions and staging folders of an object-storage lake."""
    import hashlib
    import re

    configured = os.environ.get(ENV_LAKE_CACHE)
    base = Path(configured) if configured else local_home() / "lake-cache"
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", uri)[:60].strip("_")
    return base / f"{readable}-{hashlib.sha256(uri.encode()).hexdigest()[:10]}"


def lake_storage_options() -> dict[str, object]:
    """Extra fsspec storage options for an object-storage lake, from ``ML_LIFECYCLE_LAKE_STORAGE_OPTIONS`` (JSON)."""
    configured = os.environ.get(ENV_LAKE_STORAGE_OPTIONS, "").strip()
    if not configured:
        return {}
    try:
        options = json.loads(configured)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{ENV_LAKE_STORAGE_OPTIONS} is not valid JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise ValueError(f"{ENV_LAKE_STORAGE_OPTIONS} must be a JSON object of fsspec storage options, "
                         f"got {type(options).__name__}")
    return options


def embedded_mlflow_uri(home: Path) -> str:
    return f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"


def airflow_port() -> int:
    return int(os.environ.get(ENV_AIRFLOW_PORT) or 8080)


def mlflow_port() -> int:
    return int(os.environ.get(ENV_MLFLOW_PORT) or 5000)


def embedded_environment(home: Path | None = None) -> dict[str, str]:
    """Environment for the embedded default: Airflow on SQLite, MLflow on SQLite, a local lake.

    Values already set in the environment win, so a user can point any piece elsewhere.
    """
    home = (home or local_home()).resolve()
    root = project_root()
    mlflow_uri = embedded_mlflow_uri(home)
    artifacts = (home / "mlflow" / "artifacts").as_uri()
    api_url = f"http://localhost:{airflow_port()}"
    mlflow_url = f"http://localhost:{mlflow_port()}"
    defaults = {
        ENV_LOCAL_HOME: str(home),
        ENV_LAKE_ROOT: str(home / "lake"),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # One local user who may look at everything; the embedded default is a single-user sandbox.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__PORT": str(airflow_port()),
        # Task processes report to the API server here; any other port fails every task ("connection refused").
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{airflow_port()}/execution/",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Two cores: four task processes at once keep both busy while sensors and short tasks wait.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # The executor forks its workers from the scheduler, which imported the heavy libraries first
        # (embedded.scheduler), and each task process forks from its worker: no ~20 s of imports per task.
        # Explicit because Python 3.14 makes forkserver the default.
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "fork",
        # A task's success reaches the scheduler through the API server, so it is seen on the scheduler's
        # next loop: 1 s idle sleep (the default) put ~0.5 s between consecutive tasks, 0.1 s puts 0.05-0.15 s,
        # for 15-18% of one core while idle (0.05 was slower on two cores).
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.1",
        # The supervisor may notice a finished task process only at its next heartbeat: with the default 5 s
        # a skipped task reported up to 5 s late.
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
        # A day whose drop never lands (today's scheduled run right after unpausing, say) gives up after
        # 10 minutes with a message, instead of holding the pipeline's only run slot for 20 hours.
        "AIRFLOW__ML_LIFECYCLE__LANDING_TIMEOUT": "600",
        "AIRFLOW__ML_LIFECYCLE__LANDING_POKE_INTERVAL": "15",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(
            {
                "conn_type": "generic",
                "extra": {"tracking_uri": mlflow_uri, "artifact_location": artifacts, "ui_url": mlflow_url},
            }
        ),
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "ML_LIFECYCLE_MLFLOW_ARTIFACTS": artifacts,
        "ML_LIFECYCLE_MLFLOW_UI_URL": mlflow_url,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    env = {key: os.environ.get(key, value) for key, value in defaults.items()}
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = os.environ.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "ml_lifecycle.settings.SQLITE_CONNECT_ARGS")
    return env


def apply_embedded_environment(home: Path | None = None) -> dict[str, str]:
    """Set the embedded default's variables in this process; call before importing airflow."""
    env = embedded_environment(home)
    os.environ.update(env)
    for sub in ("airflow", "mlflow/artifacts", "lake"):
        (Path(env[ENV_LOCAL_HOME]) / sub).mkdir(parents=True, exist_ok=True)
    return env
