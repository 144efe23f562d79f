"""Registers the bundle's operator extra links with Airflow.

This is the only module Airflow's plugin manager should import: ``ml_lifecycle/`` is listed in
``.airflowignore`` so the manager does not import the whole package (and its heavy libraries) file by file.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from ml_lifecycle.links import MlflowLink, ReportLink


class MlLifecyclePlugin(AirflowPlugin):
    name = "ml_lifecycle"
    operator_extra_links = [MlflowLink(), ReportLink()]
