"""Airflow hooks: where MLflow is, read from the ``mlflow_default`` connection (or the environment).

May import: tracking (and Airflow's SDK).
"""

from ml_lifecycle.hooks.mlflow import MlflowHook

__all__ = ["MlflowHook"]
