"""``ml-lifecycle status``: are the services up, and per pipeline what serves, what ran, what needs a person.

The registry and lake part is the Models page's own data (``ui.data.model_page``); runs and waiting
approvals come from the Airflow REST API while the services are up, else straight from the embedded
default's SQLite metadata DB (read-only), so the command also answers after ``make down``.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

RECENT_RUNS = 5


def _runs_from_api(dag_id: str) -> list[dict[str, Any]]:
    from ml_lifecycle.embedded import api

    return [{"run_id": run["dag_run_id"], "run_type": run["run_type"], "state": run["state"],
             "logical_date": (run.get("logical_date") or "")[:10] or None, "run_after": run.get("run_after")}
            for run in api.dag_runs(dag_id, limit=RECENT_RUNS)]


def _runs_from_sqlite(dag_id: str) -> list[dict[str, Any]]:
    uri = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if not uri.startswith("sqlite:///"):
        return []
    path = uri.removeprefix("sqlite:///")
    if not os.path.exists(path):
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            rows = conn.execute("select run_id, run_type, state, logical_date, run_after from dag_run where dag_id = ? "
                                "order by run_after desc limit ?", (dag_id, RECENT_RUNS)).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []
    return [{"run_id": r[0], "run_type": r[1], "state": r[2], "logical_date": (r[3] or "")[:10] or None,
             "run_after": r[4]} for r in rows]


def collect_status(pipeline: str | None = None) -> dict[str, Any]:
    from ml_lifecycle.embedded import api, services
    from ml_lifecycle.ui.data import model_page, pipeline_names

    service_rows = services.ps()
    api_up = any(row["service"] == "api-server" and row["health"] == "healthy" for row in service_rows)
    names = [pipeline] if pipeline else pipeline_names()
    approvals: list[dict[str, Any]] = []
    if api_up:
        try:
            approvals = api.pending_approvals()
        except api.AirflowApiError:
            approvals = []
    report: dict[str, Any] = {"services": service_rows, "runs_from": "rest-api" if api_up else "metadata-db",
                              "pipelines": {}}
    for name in names:
        page = model_page(name)
        runs = {dag_id: (_runs_from_api(dag_id) if api_up else _runs_from_sqlite(dag_id)) for dag_id in page["dags"]}
        drift = (page.get("drift") or {}).get("points") or []
        last_drift = drift[-1] if drift else None
        report["pipelines"][name] = {
            "champion": (page.get("champion") or {}).get("version"),
            "challenger": (page.get("challenger") or {}).get("version"),
            "runs": runs,
            "last_drift": {k: last_drift[k] for k in ("ds", "dataset_drift", "drift_share", "drifted_columns")}
            if last_drift else None,
            "alerts": _alerts(name, page, runs, drift, approvals),
            "errors": page.get("errors") or [],
        }
    return report


def _alerts(name: str, page: dict[str, Any], runs: dict[str, list[dict[str, Any]]], drift: list[dict[str, Any]],
            approvals: list[dict[str, Any]]) -> list[str]:
    """What needs a person now: a drift streak still open, a failed latest run, a waiting approval,
    realized performance under its floor, no champion."""
    alerts = []
    if not page.get("champion"):
        alerts.append("no champion: daily runs skip scoring until a training run promotes one")
    streak = 0
    for point in reversed(drift):
        if not point["dataset_drift"]:
            break
        streak += 1
    if streak:
        alerts.append(f"dataset drift on the last {streak} report day(s), newest {drift[-1]['ds']} "
                      f"(share {drift[-1]['drift_share']:.2f}; {', '.join(drift[-1]['drifted_columns'][:5])})")
    for dag_id, dag_runs in runs.items():
        if dag_runs and dag_runs[0]["state"] == "failed":
            alerts.append(f"latest {dag_id} run failed: {dag_runs[0]['run_id']}")
    for detail in approvals:
        ti = detail.get("task_instance") or {}
        if str(ti.get("dag_id", "")).startswith(f"{name}_"):
            alerts.append(f"approval waiting: {detail.get('subject')} ({ti.get('dag_id')} {ti.get('dag_run_id')})")
    performance = page.get("performance") or {}
    floor, metric = performance.get("floor"), performance.get("metric")
    value = (performance.get("window") or {}).get(metric)
    if floor is not None and value is not None and value < floor:
        alerts.append(f"realized {metric} {value:.3f} below its floor {floor}")
    return alerts


def render_status(report: dict[str, Any]) -> str:
    lines = ["services:"]
    for row in report["services"]:
        lines.append(f"  {row['service']:<14} {row['process']:<8} {row['health']}")
    for name, info in report["pipelines"].items():
        lines.append(f"\n{name}: champion v{info['champion'] or '-'}, challenger v{info['challenger'] or '-'}")
        for dag_id, runs in info["runs"].items():
            shown = ", ".join(f"{run['logical_date'] or run['run_id']} {run['state']}" for run in runs) or "no runs"
            lines.append(f"  {dag_id:<20} {shown}")
        drift = info["last_drift"]
        lines.append(f"  last drift verdict: {drift['ds']} {'DRIFT' if drift['dataset_drift'] else 'no drift'} "
                     f"(share {drift['drift_share']:.2f})" if drift else "  last drift verdict: none yet")
        lines.append("  open alerts: " + ("none" if not info["alerts"] else ""))
        lines.extend(f"    - {alert}" for alert in info["alerts"])
        lines.extend(f"  ! {error}" for error in info["errors"])
    lines.append(f"\n(runs read from the {report['runs_from']})")
    return "\n".join(lines)
