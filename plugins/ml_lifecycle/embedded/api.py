"""The Airflow REST API (``/api/v2``) as the UI uses it: list and unpause DAGs, trigger a run, create a
backfill, read runs and task instances, answer a human-in-the-loop approval.

Plain ``urllib`` and JSON, so a command that only talks to the services starts in milliseconds. On the
embedded default the simple auth manager runs with ``all_admins``: every request is an admin's, as every
click in the UI is. Set ``ML_LIFECYCLE_AIRFLOW_TOKEN`` to send a bearer token to another deployment.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ml_lifecycle.settings import airflow_port

FINISHED = ("success", "failed")
APPROVAL_SETTLE_SECONDS = 2.0
BACKFILL_SETTLE_SECONDS = 45.0  # the scheduler marks finished backfills complete every 30 s


class AirflowApiError(RuntimeError):
    """The API refused a request (the message carries Airflow's own ``detail``) or is unreachable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def base_url() -> str:
    return os.environ.get("ML_LIFECYCLE_AIRFLOW_URL") or f"http://localhost:{airflow_port()}"


def request(method: str, path: str, body: Any = None, *, query: dict[str, Any] | None = None,
            timeout: float = 30) -> Any:
    url = f"{base_url()}/api/v2{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if os.environ.get("ML_LIFECYCLE_AIRFLOW_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['ML_LIFECYCLE_AIRFLOW_TOKEN']}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        try:
            detail = json.dumps(json.loads(detail).get("detail", detail))
        except (ValueError, AttributeError):
            pass
        raise AirflowApiError(f"{method} {path}: HTTP {exc.code}: {detail}", exc.code) from None
    except OSError as exc:
        raise AirflowApiError(f"the Airflow API at {base_url()} is unreachable ({exc}); start it with `make up`") \
            from None
    return json.loads(payload) if payload else None


def _iso(moment: date | datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.isoformat()


# ---- DAGs ----------------------------------------------------------------------------------------
def dag_ids() -> list[str]:
    try:
        answer = request("GET", "/dags", query={"limit": 1000})
    except AirflowApiError:
        return []
    return [dag["dag_id"] for dag in answer["dags"]]


def unpause(dag_id: str) -> bool:
    """Unpause the DAG; True if it was paused."""
    dag = request("GET", f"/dags/{dag_id}")
    if not dag["is_paused"]:
        return False
    request("PATCH", f"/dags/{dag_id}", {"is_paused": False})
    return True


# ---- runs ----------------------------------------------------------------------------------------
def trigger(dag_id: str, *, logical_date: date | datetime | str | None = None, conf: dict[str, Any] | None = None,
            run_id: str | None = None) -> dict[str, Any]:
    """Trigger a run as the UI's Trigger form does (Airflow validates ``conf`` against the DAG's Params).

    ``run_after`` is one whole second in the past: the scheduler starts runs with ``run_after <=
    CURRENT_TIMESTAMP``, which SQLite gives in whole seconds, so a run asked for at :09.06 would wait
    for :10 (0.1-0.2 s from trigger to first task instead of ~1 s)."""
    run_after = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    body: dict[str, Any] = {"logical_date": _iso(logical_date) if logical_date is not None else None,
                            "run_after": run_after.isoformat(), "conf": conf or {}}
    if run_id:
        body["dag_run_id"] = run_id
    result: dict[str, Any] = request("POST", f"/dags/{dag_id}/dagRuns", body)
    return result


def backfill(dag_id: str, *, from_date: date | str, to_date: date | str, conf: dict[str, Any] | None = None,
             max_active_runs: int = 1, reprocess_behavior: str = "failed") -> dict[str, Any]:
    """A backfill whose days run one at a time, oldest first (``max_active_runs=1``): Airflow's own
    default of 10 would start them at once, and the daily DAG's date-order guard would then park nine
    of them in ``wait_for_landing`` until the day before finished."""
    body = {"dag_id": dag_id, "from_date": _iso(from_date), "to_date": _iso(to_date), "dag_run_conf": conf or {},
            "max_active_runs": max_active_runs, "reprocess_behavior": reprocess_behavior, "run_backwards": False}
    wait_for_finished_backfills(dag_id)
    created: dict[str, Any] = request("POST", "/backfills", body)
    return created


def wait_for_finished_backfills(dag_id: str, *, timeout: float = BACKFILL_SETTLE_SECONDS) -> None:
    """Wait until Airflow has marked complete each backfill of ``dag_id`` whose runs have all finished.

    The scheduler marks a backfill complete only every 30 s, and until then refuses a new backfill of the
    DAG ("Another backfill is running"): a backfill asked for right after the last one ended would fail."""
    def settled() -> bool:
        backfills = request("GET", "/backfills", query={"dag_id": dag_id, "limit": 100})["backfills"]
        open_ids = {backfill["id"] for backfill in backfills if not backfill.get("completed_at")}
        if not open_ids:
            return True
        active = [run for run in dag_runs(dag_id, limit=1000, run_type=["backfill"])
                  if run["state"] not in FINISHED]
        return bool(active)  # a backfill really running: let Airflow refuse the new one with its reason

    wait_for(settled, f"Airflow to mark the finished backfills of {dag_id} complete", timeout=timeout,
             interval=1.0)


def dag_run(dag_id: str, run_id: str) -> dict[str, Any]:
    result: dict[str, Any] = request("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")
    return result


def dag_runs(dag_id: str, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    answer = request("GET", f"/dags/{dag_id}/dagRuns", query={"limit": limit, "order_by": "-run_after", **filters})
    runs: list[dict[str, Any]] = answer["dag_runs"]
    return runs


def finished_runs(dag_id: str, days: set[str]) -> list[dict[str, Any]] | None:
    """The runs of ``dag_id`` for these logical dates (YYYY-MM-DD), oldest first, once every one of them
    exists and has finished; None until then. A DAG has at most one run per logical date."""
    runs = [run for run in dag_runs(dag_id, limit=1000) if run.get("logical_date") and run["logical_date"][:10] in days]
    if {run["logical_date"][:10] for run in runs} != days or any(run["state"] not in FINISHED for run in runs):
        return None
    return sorted(runs, key=lambda run: run["logical_date"])


def task_instances(dag_id: str, run_id: str) -> list[dict[str, Any]]:
    answer = request("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances",
                     query={"limit": 1000})
    tis: list[dict[str, Any]] = answer["task_instances"]
    return tis


def xcom(dag_id: str, run_id: str, task_id: str, key: str = "return_value", *, map_index: int = -1) -> Any:
    query: dict[str, Any] = {"deserialize": "true", "stringify": "false"}
    if map_index >= 0:
        query["map_index"] = map_index
    try:
        answer = request("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                                f"{task_id}/xcomEntries/{key}", query=query)
    except AirflowApiError as exc:
        if exc.status == 404:
            return None
        raise
    return answer.get("value")


def wait_for(check: Callable[[], Any], what: str, *, timeout: float, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_for_run(dag_id: str, run_id: str, *, timeout: float = 900, interval: float = 1.0) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = dag_run(dag_id, run_id)
        return run if run["state"] in FINISHED else None

    result: dict[str, Any] = wait_for(finished, f"{dag_id} run {run_id} to finish", timeout=timeout,
                                      interval=interval)
    return result


# ---- human in the loop ---------------------------------------------------------------------------
def pending_approvals(dag_id: str = "~") -> list[dict[str, Any]]:
    """Approvals waiting for an answer (what the UI's Required Actions page lists)."""
    answer = request("GET", f"/dags/{dag_id}/dagRuns/~/hitlDetails", query={"response_received": "false"})
    details: list[dict[str, Any]] = answer["hitl_details"]
    return details


def answer_approval(dag_id: str, run_id: str, task_id: str, option: str = "Approve", *, map_index: int = -1,
                    params: dict[str, Any] | None = None, asked_at: str | None = None) -> dict[str, Any]:
    """Answer as the Required Actions page does. With ``asked_at`` (the detail's ``created_at``), not
    sooner than APPROVAL_SETTLE_SECONDS after the question was asked: an answer within ~0.2 s of the task
    parking in ``awaiting_input`` reschedules it before the scheduler has processed the executor's event
    for the parked try, which Airflow 3.3 then takes for a task that died while queued and fails the try
    (seen once in the integration test; a person in the UI is never that fast, a script can be)."""
    if asked_at:
        settled = datetime.fromisoformat(asked_at).timestamp() + APPROVAL_SETTLE_SECONDS
        time.sleep(max(0.0, settled - time.time()))
    result: dict[str, Any] = request(
        "PATCH",
        f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/{task_id}/{map_index}/hitlDetails",
        {"chosen_options": [option], "params_input": params or {}},
    )
    return result
