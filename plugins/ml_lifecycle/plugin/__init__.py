"""The bundle's Airflow plugin: the operators' extra links and the "Models" view in the Airflow UI.

Airflow's plugin manager imports ``plugins/ml_lifecycle_plugin.py``, which only imports
:class:`MlLifecyclePlugin` from here (``ml_lifecycle/`` is in ``plugins/.airflowignore``, so the manager
never imports the package file by file). Importing it stays cheap (every Airflow component loads plugins):
the operators import no heavy library at module level, and the Models app is a lazy ASGI wrapper that
builds its FastAPI application on the first request, inside the API server.

- ``operator_extra_links``: MLflow run and model version (train, gate, publish, rollback), Report
  (validate, drift_check, realized_performance, gate), Model card (gate), Partition (publish_predictions,
  shadow_score, batch scoring); the link classes are in :mod:`ml_lifecycle.ui.links`.
- ``fastapi_apps``: the app mounted at ``/ml-lifecycle`` (:mod:`ml_lifecycle.ui`): the Models page, the
  reports and model cards, partition pages; every route requires Airflow's login (JWT) and read access
  to the pipeline's DAGs.
- ``external_views``: "Models" in the UI's navigation, shown in an iframe at ``/plugin/models``.

May import: everything in ``ml_lifecycle`` but the CLI; nothing imports it but the plugin file.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

from ml_lifecycle import operators as ops
from ml_lifecycle.ui import LazyApp
from ml_lifecycle.ui.links import MlflowRunLink, ModelCardLink, ModelVersionLink, PartitionLink, ReportLink
from ml_lifecycle.ui.urls import UI_PREFIX

# A stack of three layers (versions of a model), as a data URI: the nav icon needs no request.
MODELS_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' "
    "stroke='%2351504f' stroke-width='2' stroke-linejoin='round'><path d='M12 3 2 8l10 5 10-5-10-5z'/>"
    "<path d='m2 13 10 5 10-5'/><path d='m2 17.5 10 5 10-5'/></svg>"
)


def plugin_links() -> list[BaseOperatorLink]:
    """The links the plugin registers, each bound to the operator classes that show it.

    Registering them is what makes the API server call their ``get_link`` (and so turn lake paths into
    app URLs) instead of returning the raw XCom value.
    """
    bindings: dict[type[BaseOperatorLink], list[Any]] = {
        MlflowRunLink: [ops.TrainModelOperator],
        ModelVersionLink: [ops.TrainModelOperator, ops.GateOperator, ops.PublishModelOperator, ops.RollbackOperator],
        ReportLink: [ops.ValidateOperator, ops.DriftCheckOperator, ops.RealizedPerformanceOperator, ops.GateOperator],
        ModelCardLink: [ops.GateOperator],
        PartitionLink: [ops.PublishPredictionsOperator, ops.BatchPredictOperator, ops.ShadowScoreOperator],
    }
    links: list[BaseOperatorLink] = []
    for link_class, operator_classes in bindings.items():
        bound = type(link_class.__name__, (link_class,), {"operators": operator_classes,
                                                          "__module__": link_class.__module__})
        links.append(bound())
    return links


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
