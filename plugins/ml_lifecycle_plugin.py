"""The one module Airflow's plugin manager imports: it registers the bundle's plugin (see ``ml_lifecycle.plugin``)."""

from ml_lifecycle.plugin import MlLifecyclePlugin

__all__ = ["MlLifecyclePlugin"]
