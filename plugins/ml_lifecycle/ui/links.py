"""Extra links from a task in the Airflow UI to what it produced: its MLflow run and model version, its
report or model card (served by the plugin's app, behind Airflow's login), the partition it wrote.

Operators push the data of a link to XCom when they run: the MLflow URLs (the worker knows the
``mlflow_default`` connection's ``ui_url``) and lake paths (``report_path``, ``model_card_path``,
``partition_path``). A link's ``get_link`` turns that into the URL, in two places of Airflow 3:

- in the worker, when the task finishes: the task runner calls ``get_link`` of each of the operator's
  links and stores the URL under the link's own key (``_link_<class>``); the API server answers the UI
  from that key when no plugin registered a link for the operator's class;
- in the API server: our plugin registers these links for our operator classes, so the server calls
  ``get_link`` itself, from the data XComs. Runs made before a link existed get it too, and the app's
  URL follows the server's ``[api] base_url``.

Lake paths become URLs of the plugin's app (``/ml-lifecycle/files/<pipeline>/...``,
``/ml-lifecycle/partitions/<zone>/<pipeline>/<ds>``), which serves them only to a logged-in user who may
read the pipeline's DAGs. The URLs carry logical lake paths: on an object-storage lake a worker pushes
paths of its lake cache (``.../ds=<ds>/_gen=<generation>/...``), and the URL drops the cache and the
generation, so it is the same as on a local lake and the API server resolves it through its own cache.
A ``file://`` URL would be useless: Airflow's UI drops it, and browsers do not open it from a web page.

Nothing heavy is imported here: the operators and the plugin module (imported by every Airflow component)
import this one. The plugin (:mod:`ml_lifecycle.plugin`) binds each link to the operator classes that show it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

from ml_lifecycle.ui.urls import app_url

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


MLFLOW_RUN_XCOM_KEY = "mlflow_run_url"
MODEL_VERSION_XCOM_KEY = "mlflow_model_version_url"
REPORT_XCOM_KEY = "report_path"
MODEL_CARD_XCOM_KEY = "model_card_path"
PARTITION_XCOM_KEY = "partition_path"

ZONES_WITH_PAGES = ("predictions", "shadow", "validated", "quarantine")


def lake_relative(path: str) -> tuple[str, str, str] | None:
    """Split a lake path into (zone, pipeline, rest), or None when it is not a location of the lake.

    ``rest`` is the logical path: ``_gen=<generation>`` segments are dropped, so a published report or
    partition has one address whichever cache it was read from. Accepted: a path under a local lake's root;
    on an object-storage lake a path under the lake cache (this process's, or another machine's: the cache
    folder's name derives from the lake URI alone) or a URI under the lake's root.
    """
    parts = _lake_parts(path)
    if parts is None:
        return None
    from ml_lifecycle.lake import GENERATION_PREFIX

    parts = tuple(part for part in parts if not part.startswith(GENERATION_PREFIX))
    if len(parts) < 3 or ".." in parts:
        return None
    return parts[0], parts[1], "/".join(parts[2:])


def _lake_parts(path: str) -> tuple[str, ...] | None:
    from ml_lifecycle.lake import Lake

    lake = Lake()  # opens nothing: an object store is reached on first use only
    if lake.remote and path.startswith(lake.uri + "/"):
        return PurePosixPath(path[len(lake.uri) + 1:]).parts
    given = PurePosixPath(path)
    for root in (lake.root.resolve(), lake.root):
        try:
            return given.relative_to(PurePosixPath(str(root))).parts
        except ValueError:
            continue
    if lake.remote and given.is_absolute() and lake.root.name in given.parts[:-1]:
        return given.parts[given.parts.index(lake.root.name) + 1:]  # a worker's cache of the same lake
    return None


def _is_lake_location(value: str) -> bool:
    """A local path or a URI under the object-storage lake (anything else is already a URL)."""
    if value.startswith("/"):
        return True
    from ml_lifecycle.lake import Lake

    lake = Lake()
    return lake.remote and value.startswith(lake.uri + "/")


def file_url(path: str) -> str:
    """The app URL of a report or model card under ``reports/<pipeline>/`` of the lake ('' otherwise)."""
    split = lake_relative(path) if path else None
    if split is None or split[0] != "reports":
        return ""
    _, pipeline, rest = split
    return app_url(f"files/{pipeline}/{rest}")


def partition_url(path: str) -> str:
    """The app URL of the page of a partition (``<zone>/<pipeline>/ds=<ds>``) of the lake ('' otherwise)."""
    split = lake_relative(path) if path else None
    if split is None or split[0] not in ZONES_WITH_PAGES or not split[2].startswith("ds="):
        return ""
    zone, pipeline, rest = split
    return app_url(f"partitions/{zone}/{pipeline}/{rest.split('/')[0][3:]}")


def stored_value(ti_key: TaskInstanceKey, key: str) -> str:
    """The XCom ``key`` of a task instance, in a task (through the supervisor) or in the API server (DB)."""
    import sys

    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    if runner is not None and getattr(runner, "SUPERVISOR_COMMS", None) is not None:
        from airflow.sdk.execution_time.xcom import XCom

        value: Any = XCom.get_value(ti_key=ti_key, key=key)
    else:  # the API server reads the metadata DB, as Airflow's own XComOperatorLink does
        from airflow.serialization.definitions.operatorlink import XComOperatorLink

        value = XComOperatorLink(name=key, xcom_key=key).get_link(None, ti_key=ti_key)  # type: ignore[arg-type]
    return "" if value in (None, "", "None", "null") else str(value)


class _XComLink(BaseOperatorLink):
    """A link made from the XCom ``key`` its operator pushed (see the module's doc for where it runs)."""

    key: ClassVar[str] = ""

    def url_from(self, value: str) -> str:
        return value

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        value = stored_value(ti_key, self.key)
        return self.url_from(value) if value else ""


class MlflowRunLink(_XComLink):
    name = "MLflow run"
    key = MLFLOW_RUN_XCOM_KEY


class ModelVersionLink(_XComLink):
    name = "Model version"
    key = MODEL_VERSION_XCOM_KEY


class ReportLink(_XComLink):
    """The task's report (validation, drift, realized performance, gate verdict), served by the plugin's app."""

    name = "Report"
    key = REPORT_XCOM_KEY

    def url_from(self, value: str) -> str:
        return file_url(value) if _is_lake_location(value) else value


class ModelCardLink(ReportLink):
    name = "Model card"
    key = MODEL_CARD_XCOM_KEY


class PartitionLink(_XComLink):
    """The lake partition a scoring task published (rows, schema, metadata), served by the plugin's app."""

    name = "Partition"
    key = PARTITION_XCOM_KEY

    def url_from(self, value: str) -> str:
        return partition_url(value) if _is_lake_location(value) else value
