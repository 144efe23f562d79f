"""Extra links from a task in the Airflow UI to what it produced: its MLflow run or version, its report.

Operators store the full URL in XCom when they run (the provider convention), so the link works for
any deployment without the UI having to know where MLflow or the lake is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


MLFLOW_UI_XCOM_KEY = "mlflow_ui_url"
REPORT_XCOM_KEY = "report_path"


def _xcom_value(ti_key: TaskInstanceKey, key: str) -> str:
    from airflow.sdk.execution_time.xcom import XCom

    value = XCom.get_value(ti_key=ti_key, key=key)
    return str(value) if value else ""


class MlflowLink(BaseOperatorLink):
    name = "MLflow"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _xcom_value(ti_key, MLFLOW_UI_XCOM_KEY)


class ReportLink(BaseOperatorLink):
    name = "Report"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        path = _xcom_value(ti_key, REPORT_XCOM_KEY)
        return f"file://{path}" if path.startswith("/") else path
