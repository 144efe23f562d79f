"""Where things live: the checkout, the spec folder, the lake, and the embedded default's services.

Every location can be overridden by an environment variable so the same code runs in a checkout,
in the container image, and in tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV_PROJECT_ROOT = "ML_LIFECYCLE_PROJECT_ROOT"
ENV_INCLUDE_DIR = "ML_LIFECYCLE_INCLUDE_DIR"
ENV_LOCAL_HOME = "ML_LIFECYCLE_LOCAL_HOME"
ENV_LAKE_ROOT = "ML_LIFECYCLE_LAKE_ROOT"
ENV_LAKE_CACHE = "ML_LIFECYCLE_LAKE_CACHE"
ENV_LAKE_STORAGE_OPTIONS = "ML_LIFECYCLE_LAKE_STORAGE_OPTIONS"
MLFLOW_CONN_ID = "mlflow_default"


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


def embedded_environment(home: Path | None = None) -> dict[str, str]:
    """Environment for the embedded default: Airflow on SQLite, MLflow on SQLite, a local lake.

    Values already set in the environment win, so a user can point any piece elsewhere.
    """
    home = (home or local_home()).resolve()
    root = project_root()
    mlflow_uri = embedded_mlflow_uri(home)
    artifacts = (home / "mlflow" / "artifacts").as_uri()
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
        "AIRFLOW__API__BASE_URL": "http://localhost:8080",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(
            {
                "conn_type": "generic",
                "extra": {"tracking_uri": mlflow_uri, "artifact_location": artifacts, "ui_url": "http://localhost:5000"},
            }
        ),
        "MLFLOW_TRACKING_URI": mlflow_uri,
        "ML_LIFECYCLE_MLFLOW_ARTIFACTS": artifacts,
        "ML_LIFECYCLE_MLFLOW_UI_URL": "http://localhost:5000",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def apply_embedded_environment(home: Path | None = None) -> dict[str, str]:
    """Set the embedded default's variables in this process; call before importing airflow."""
    env = embedded_environment(home)
    os.environ.update(env)
    for sub in ("airflow", "mlflow/artifacts", "lake"):
        (Path(env[ENV_LOCAL_HOME]) / sub).mkdir(parents=True, exist_ok=True)
    return env
