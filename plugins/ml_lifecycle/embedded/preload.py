"""What a task process would otherwise import itself (~20 s on two cores), imported once by the
process its executor forks from: the embedded default's scheduler (``embedded.scheduler``) and the
scale-out Celery worker (``celery_config``).

Every worker process of the executor is forked from that process, and every task process is forked
from its worker by Airflow's supervisor, so a task finds these modules already in memory (shared
copy-on-write). Only imports belong here: no thread, pool, connection, file handle or MLflow store may
be opened, because they do not survive a fork (or worse, are shared by every task).
"""

from __future__ import annotations

import logging
import warnings

# GX logs ~210 "Skipping registering function" lines at import when the root logger is at INFO.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

# The task runner and the lifecycle's own stages (the DAG files import the operators lazily).
import airflow.sdk.execution_time.task_runner  # noqa: E402,F401
import evidently  # noqa: E402,F401
import evidently.presets  # noqa: E402,F401
import great_expectations  # noqa: E402,F401
import mlflow  # noqa: E402,F401
import mlflow.pyfunc  # noqa: E402,F401
import mlflow.sklearn  # noqa: E402,F401

# Imported by MLflow only when a process first opens its SQLite store (1.3 s: the ORM mappers are
# configured at import), so every task that loads or logs a model paid it again.
import mlflow.store.model_registry.sqlalchemy_store  # noqa: E402,F401
import mlflow.store.model_registry.sqlalchemy_workspace_store  # noqa: E402,F401
import mlflow.store.tracking.sqlalchemy_store  # noqa: E402,F401
import mlflow.store.tracking.sqlalchemy_workspace_store  # noqa: E402,F401
import mlflow.tracing.processor.otel  # noqa: E402,F401
import numpy  # noqa: E402,F401
import pandas  # noqa: E402,F401
import pyarrow.dataset  # noqa: E402,F401
import pyarrow.pandas_compat  # noqa: E402,F401
import pyarrow.parquet  # noqa: E402,F401
import sklearn.ensemble  # noqa: E402,F401
import sklearn.metrics  # noqa: E402,F401

# skops.io (MLflow's default sklearn format) scans every module in sys.modules at import for SciPy's
# ufuncs (1.2 s); with Airflow loaded that touches each deprecated alias of airflow.utils and logged
# ~1,100 DeprecatedImportWarning lines into every task that loaded a model. Once here, silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import skops.io  # noqa: E402,F401

# What the stages import on first use, found by diffing sys.modules around a whole churn day run in a
# preloaded process: GitPython (MLflow tags runs with the code version) and the pandas backend of
# narwhals (plotly, for Evidently's HTML).
import git  # noqa: E402,F401
import narwhals._pandas_like.dataframe  # noqa: E402,F401

import ml_lifecycle.inference  # noqa: E402,F401
import ml_lifecycle.ingest  # noqa: E402,F401
import ml_lifecycle.monitoring  # noqa: E402,F401
import ml_lifecycle.registry  # noqa: E402,F401
import ml_lifecycle.training  # noqa: E402,F401
import ml_lifecycle.validation  # noqa: E402,F401
import ml_lifecycle.workflows  # noqa: E402,F401
