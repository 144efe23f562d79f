"""Alerts: task failures, drift, retraining requests, promotions and rollbacks, routed by one connection.

The ``ml_alerts`` connection decides where an alert goes:
- ``conn_type`` http / https / webhook: the alert is POSTed as JSON ({event, title, message, details,
  pipeline, sent_at}) to ``<scheme>://host[:port]/<schema or extra.path>`` (``extra.scheme``, default
  http; a host that already starts with http(s):// is used as is); ``extra.headers`` are added; login
  and password become basic auth.
- ``conn_type`` slack_webhook, or any type with ``extra.kind = "slack"``: a Slack incoming webhook gets
  ``{"text": ...}``. The URL is the password when it is a full URL (the Slack provider's convention),
  else ``extra.webhook_url``, else ``host`` + ``/`` + password (host defaults to hooks.slack.com/services).
- ``conn_type`` smtp / email: a plain-text mail through smtplib to host:port, from ``extra.from`` (or the
  login) to ``extra.to`` (a string or a list), with STARTTLS when ``extra.starttls`` is true.
- no such connection: the alert is logged at WARNING, so a laptop run still shows it.

A failed delivery is logged at ERROR with the alert's text and does not fail the task that alerted
(``raise_on_error=True`` changes that). Only the standard library is used: the module stays cheap.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "ml_alerts"
SLACK_HOST = "https://hooks.slack.com/services"


def alert_payload(event: str, title: str, message: str, details: Mapping[str, Any] | None = None,
                  pipeline: str | None = None) -> dict[str, Any]:
    return {"event": event, "title": title, "message": message, "details": dict(details or {}),
            "pipeline": pipeline, "sent_at": datetime.now(UTC).isoformat()}


def send_alert(
    event: str,
    title: str,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
    pipeline: str | None = None,
    conn_id: str | None = DEFAULT_CONN_ID,
    timeout: float = 10.0,
    raise_on_error: bool = False,
) -> str:
    """Deliver one alert by the route its connection says; returns the route: webhook, slack, email or log."""
    payload = alert_payload(event, title, message, details, pipeline)
    conn = _connection(conn_id) if conn_id else None
    if conn is None:
        log.warning("ALERT [%s] %s: %s %s", event, title, message, json.dumps(payload["details"], default=str))
        return "log"
    route = route_of(conn)
    try:
        if route == "slack":
            _post_json(_slack_url(conn), {"text": f"*{title}*\n{message}"}, timeout=timeout)
        elif route == "email":
            _send_mail(conn, title, message, payload, timeout=timeout)
        else:
            _post_json(_webhook_url(conn), payload, timeout=timeout, headers=conn.extra_dejson.get("headers"),
                       auth=(conn.login, conn.password or "") if conn.login else None)
    except Exception as exc:
        if raise_on_error:
            raise
        log.error("ALERT not delivered through %s (%s): [%s] %s: %s", conn_id, exc, event, title, message)
        return "log"
    log.info("alert [%s] %s sent through %s (%s)", event, title, conn_id, route)
    return route


def route_of(conn: Any) -> str:
    extra = conn.extra_dejson
    conn_type = (conn.conn_type or "").lower().replace("-", "_")
    if conn_type == "slack_webhook" or str(extra.get("kind", "")).lower() == "slack":
        return "slack"
    if conn_type in ("smtp", "email"):
        return "email"
    return "webhook"


def _connection(conn_id: str) -> Any:
    """The connection, or None when it is not defined (or connections cannot be read here)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as exc:  # e.g. no secrets backend outside a task: an alert must still be seen
        log.debug("connection %s could not be read: %s", conn_id, exc)
        return None


def _webhook_url(conn: Any) -> str:
    extra = conn.extra_dejson
    if extra.get("url"):
        return str(extra["url"])
    host = (conn.host or "").rstrip("/")
    if not host:
        raise ValueError(f"connection {conn.conn_id!r} has no host (or extra.url) to post alerts to")
    if not host.startswith(("http://", "https://")):
        scheme = extra.get("scheme") or ("https" if (conn.conn_type or "").lower() == "https" else "http")
        host = f"{scheme}://{host}"
    port = f":{conn.port}" if conn.port else ""
    path = str(extra.get("path") or extra.get("endpoint") or conn.schema or "").strip("/")
    return f"{host}{port}/{path}" if path else f"{host}{port}/"


def _slack_url(conn: Any) -> str:
    extra = conn.extra_dejson
    password = conn.password or ""
    if password.startswith(("http://", "https://")):
        return str(password)
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    if password:
        host = (conn.host or SLACK_HOST).rstrip("/")
        host = host if host.startswith(("http://", "https://")) else f"https://{host}"
        return f"{host}/{password.strip('/')}"
    return _webhook_url(conn)


def _post_json(url: str, body: Mapping[str, Any], *, timeout: float, headers: Mapping[str, str] | None = None,
               auth: tuple[str, str] | None = None) -> None:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body, default=str).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **dict(headers or {})})
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL from a connection)
        response.read()


def _send_mail(conn: Any, title: str, message: str, payload: Mapping[str, Any], *, timeout: float) -> None:
    import smtplib
    from email.message import EmailMessage

    extra = conn.extra_dejson
    recipients = extra.get("to") or []
    recipients = [recipients] if isinstance(recipients, str) else list(recipients)
    sender = extra.get("from") or conn.login
    if not recipients or not sender:
        raise ValueError(f"connection {conn.conn_id!r} needs extra.to and extra.from (or a login) to send mail")
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = title, sender, ", ".join(recipients)
    mail.set_content(f"{message}\n\n{json.dumps(payload['details'], indent=2, default=str)}")
    with smtplib.SMTP(conn.host or "localhost", conn.port or 25, timeout=timeout) as smtp:
        if extra.get("starttls"):
            smtp.starttls()
        if conn.login and conn.password:
            smtp.login(conn.login, conn.password)
        smtp.send_message(mail)


class MlLifecycleNotifier(BaseNotifier):
    """An Airflow notifier (``on_failure_callback=...``, ``notifiers=[...]``) sending through ``ml_alerts``.

    ``title`` and ``message`` are Jinja templates rendered with the task's context, e.g.
    ``"{{ ti.task_id }} failed in {{ dag.dag_id }}"``; ``details`` is sent as is (JSON).
    """

    template_fields: Sequence[str] = ("title", "message", "conn_id", "pipeline")

    def __init__(
        self,
        *,
        message: str,
        title: str = "ml-lifecycle alert",
        event: str = "alert",
        pipeline: str | None = None,
        details: Mapping[str, Any] | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.message = message
        self.title = title
        self.event = event
        self.pipeline = pipeline
        self.details = dict(details or {})
        self.conn_id = conn_id
        self.timeout = timeout
        self.route: str | None = None  # where the last alert went

    def notify(self, context: Context) -> None:
        details = dict(self.details)
        ti = context.get("ti")
        if ti is not None:
            details.setdefault("dag_id", getattr(ti, "dag_id", None))
            details.setdefault("run_id", getattr(ti, "run_id", None))
            details.setdefault("task_id", getattr(ti, "task_id", None))
            details.setdefault("try_number", getattr(ti, "try_number", None))
        if context.get("exception") is not None:
            details.setdefault("exception", str(context.get("exception")))
        self.route = send_alert(self.event, str(self.title), str(self.message), details=details,
                                pipeline=self.pipeline, conn_id=self.conn_id, timeout=self.timeout)


# ---- events ----------------------------------------------------------------------------------------
def failure_notifier(pipeline: str | None = None, *, conn_id: str = DEFAULT_CONN_ID) -> MlLifecycleNotifier:
    """For ``default_args={"on_failure_callback": failure_notifier("churn")}``."""
    return MlLifecycleNotifier(
        event="task_failed",
        pipeline=pipeline,
        conn_id=conn_id,
        title="{{ dag.dag_id }}.{{ ti.task_id }} failed",
        message=("Task {{ ti.task_id }} of {{ dag.dag_id }} failed (run {{ run_id }}, try {{ ti.try_number }}): "
                 "{{ exception }}"),
    )


def drift_alert(pipeline: str, drift: Mapping[str, Any], *, conn_id: str = DEFAULT_CONN_ID) -> str:
    """Alert on a drift summary (monitoring.check_partition_drift's result); returns the route."""
    columns = ", ".join(drift.get("drifted_columns") or []) or "none"
    message = (f"{pipeline} ds={drift.get('ds')}: dataset drift, {float(drift.get('drift_share') or 0):.0%} of "
               f"features drifted ({columns}) against the training sample of v{drift.get('reference_version')}")
    return send_alert("drift_detected", f"{pipeline}: data drift on {drift.get('ds')}", message,
                      details=drift, pipeline=pipeline, conn_id=conn_id)


def retraining_alert(pipeline: str, decision: Mapping[str, Any], *, conn_id: str = DEFAULT_CONN_ID) -> str:
    """Alert on a retraining request (monitoring.decide_and_record_retraining's record)."""
    return send_alert("retraining_requested", f"{pipeline}: retraining requested on {decision.get('ds')}",
                      str(decision.get("reason")), details=decision, pipeline=pipeline, conn_id=conn_id)


def model_change_alert(
    pipeline: str,
    action: str,
    *,
    to_version: str | None,
    from_version: str | None,
    reason: str,
    details: Mapping[str, Any] | None = None,
    conn_id: str = DEFAULT_CONN_ID,
) -> str:
    """Alert on a champion change: action is promote, rollback or repromote."""
    message = f"{pipeline}: champion v{from_version or 'none'} -> v{to_version or 'none'} ({action}): {reason}"
    return send_alert(f"champion_{action}", f"{pipeline}: {action} to v{to_version}", message,
                      details={"action": action, "from_version": from_version, "to_version": to_version,
                               **dict(details or {})}, pipeline=pipeline, conn_id=conn_id)
