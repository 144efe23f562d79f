"""What the scheduler imports before LocalExecutor forks (and the Celery worker before its pool forks):
every task process inherits it, so it may open no file, socket, thread or MLflow store."""

from __future__ import annotations

import json
import subprocess
import sys

from ml_lifecycle.settings import TASK_PRELOAD_MODULE, project_root

PROBE = f"""
import json, os, sys, threading
import psutil
before = {{f.path for f in psutil.Process().open_files()}}
import {TASK_PRELOAD_MODULE}
me = psutil.Process()
from evidently.legacy.utils.sync import _loop as evidently_loop
print(json.dumps({{
    "files": sorted({{f.path for f in me.open_files()}} - before),
    "sockets": [c.fd for c in me.net_connections("all")],
    "evidently_loop": sorted([evidently_loop._ssock.fileno(), evidently_loop._csock.fileno()]),
    "threads": [t.name for t in threading.enumerate()],
    "heavy": sorted(m for m in ("pandas", "sklearn", "mlflow", "great_expectations", "evidently", "skops.io",
                                "mlflow.store.tracking.sqlalchemy_store") if m in sys.modules),
}}))
"""


def test_the_preload_imports_the_task_libraries_and_opens_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          cwd=project_root(), env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project_root() / "plugins"),
                               "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == sorted(["evidently", "great_expectations", "mlflow", "pandas", "sklearn", "skops.io",
                                    "mlflow.store.tracking.sqlalchemy_store"])
    assert seen["files"] == []
    # The only sockets: the self-pipe of the event loop Evidently creates at import (never run on our path;
    # its thread starts only for a nested async call).
    assert sorted(seen["sockets"]) == seen["evidently_loop"]
    assert seen["threads"] == ["MainThread"]
