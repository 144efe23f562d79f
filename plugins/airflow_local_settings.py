"""Airflow imports this module from its plugins folder (on ``sys.path``) in every process it starts, before
it creates the metadata engine: the scheduler, the API server, the DAG processor, the triggerer and every
``airflow`` command a user runs with this bundle's settings. Only the engine is customised here
(``ml_lifecycle.settings.create_metadata_engine``: SQLite write locks that a backfill needs)."""

from ml_lifecycle.settings import create_metadata_engine

__all__ = ["create_metadata_engine"]
