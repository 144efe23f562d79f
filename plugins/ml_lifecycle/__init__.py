"""ML lifecycle on Airflow 3 with MLflow as the registry: a plain-Python core per stage, thin operators."""

__version__ = "0.1.0"
