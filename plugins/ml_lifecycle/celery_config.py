"""Celery settings of the scale-out deployment (``[celery] celery_config_options``): Airflow's defaults,
plus the heavy libraries imported once in the Celery worker's main process.

Celery's prefork pool forks its children from the worker's main process (billiard always forks, so
``[celery] mp_start_method`` does not reach it), and Airflow's supervisor forks each task process from a
pool child. Importing the task preload module on ``worker_init``, before the pool starts, lets every
task share those pages copy-on-write instead of importing pandas, scikit-learn, MLflow, Great
Expectations and Evidently again (~20 s per task process on two cores). The scheduler imports this
module too (it builds the Celery app), but ``worker_init`` fires only in a worker, so it stays light.

May import: settings (and Airflow's Celery provider).
"""

from __future__ import annotations

import importlib
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

from ml_lifecycle.settings import TASK_PRELOAD_MODULE

CELERY_CONFIG: dict[str, Any] = dict(DEFAULT_CELERY_CONFIG)


@worker_init.connect
def preload_task_libraries(**_: Any) -> None:
    importlib.import_module(TASK_PRELOAD_MODULE)
