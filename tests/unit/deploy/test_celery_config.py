"""The scale-out Celery worker imports the task libraries once, before its prefork pool forks."""

from __future__ import annotations

import subprocess
import sys

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from ml_lifecycle.celery_config import CELERY_CONFIG
from ml_lifecycle.settings import TASK_PRELOAD_MODULE


def test_the_config_is_airflows_default():
    assert CELERY_CONFIG == DEFAULT_CELERY_CONFIG and CELERY_CONFIG is not DEFAULT_CELERY_CONFIG


def test_worker_init_imports_the_preload_module_and_loading_the_config_does_not():
    # A fresh interpreter: the test session has long imported pandas and the rest.
    script = f"""
import sys
from celery.signals import worker_init
import ml_lifecycle.celery_config
assert "pandas" not in sys.modules and "{TASK_PRELOAD_MODULE}" not in sys.modules, "imported too early"
worker_init.send(sender=None)
assert "{TASK_PRELOAD_MODULE}" in sys.modules and "pandas" in sys.modules and "sklearn" in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
