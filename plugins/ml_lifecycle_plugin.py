"""The bundle's Airflow plugin: operator extra links, and the "Models" view in the Airflow UI.

This is the only module Airflow's plugin manager should import: ``ml_lifecycle/`` is listed in
``.airflowignore`` so the manager does not import the whole package (and its heavy libraries) file by file.
Importing it stays cheap (every Airflow component loads plugins): the Models app is a lazy ASGI wrapper
that builds its FastAPI application on the first request, inside the API server.

- ``operator_extra_links``: MLflow run and model version (train, gate, publish, rollback), Report
  (validate, drift_check, realized_performance, gate), Model card (gate), Partition (publish_predictions,
  shadow_score, batch scoring); see ``ml_lifecycle.links``.
- ``fastapi_apps``: the app mounted at ``/ml-lifecycle`` (``ml_lifecycle.ui``): the Models page, the
  reports and model cards, partition pages; every route requires Airflow's login (JWT) and read access
  to the pipeline's DAGs.
- ``external_views``: "Models" in the UI's navigation, shown in an iframe at ``/plugin/models``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from ml_lifecycle.links import UI_PREFIX, plugin_links
from ml_lifecycle.ui import LazyApp

# A stack of three layers (versions of a model), as a data URI: the nav icon needs no request.
MODELS_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' "
    "stroke='%2351504f' stroke-width='2' stroke-linejoin='round'><path d='M12 3 2 8l10 5 10-5-10-5z'/>"
    "<path d='m2 13 10 5 10-5'/><path d='m2 17.5 10 5 10-5'/></svg>"
)


class MlLifecyclePlugin(AirflowPlugin):
    name = "ml_lifecycle"
    operator_extra_links = plugin_links()
    fastapi_apps = [{"app": LazyApp("ml_lifecycle.ui.app:create_app"), "url_prefix": UI_PREFIX,
                     "name": "ML lifecycle"}]
    external_views = [
        {
            "name": "Models",
            "href": f"{UI_PREFIX}/models",
            "url_route": "models",
            "destination": "nav",
            "nav_top_level": True,
            "icon": MODELS_ICON,
        }
    ]
