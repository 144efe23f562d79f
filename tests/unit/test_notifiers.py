from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from ml_lifecycle.notifiers import (
    MlLifecycleNotifier,
    drift_alert,
    failure_notifier,
    model_change_alert,
    send_alert,
)


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "body": json.loads(body),
                              "content_type": self.headers["Content-Type"],
                              "authorization": self.headers.get("Authorization")})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Recorder,), {"received": received})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **conn: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_webhook_route_posts_json(server: tuple[int, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = server
    set_connection(monkeypatch, "ml_alerts_hook", conn_type="http", host="127.0.0.1", port=port, schema="hooks/ml",
                   login="bot", password="secret")
    route = drift_alert("churn", {"ds": "2026-10-18", "drift_share": 0.375, "reference_version": "1",
                                  "drifted_columns": ["monthly_charges", "contract"]}, conn_id="ml_alerts_hook")
    assert route == "webhook"
    assert len(received) == 1
    request = received[0]
    assert request["path"] == "/hooks/ml" and request["content_type"] == "application/json"
    assert request["authorization"].startswith("Basic ")
    body = request["body"]
    assert body["event"] == "drift_detected" and body["pipeline"] == "churn"
    assert "38% of features drifted (monthly_charges, contract)" in body["message"]
    assert body["details"]["ds"] == "2026-10-18"


def test_slack_route_sends_text(server: tuple[int, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = server
    set_connection(monkeypatch, "ml_alerts_slack", conn_type="http", host="127.0.0.1", port=port,
                   schema="services/T0/B0/x", extra={"kind": "slack"})
    route = model_change_alert("churn", "rollback", to_version="1", from_version="2",
                               reason="realized roc_auc dropped", conn_id="ml_alerts_slack")
    assert route == "slack"
    assert received[0]["path"] == "/services/T0/B0/x"
    assert received[0]["body"] == {"text": "*churn: rollback to v1*\nchurn: champion v2 -> v1 (rollback): "
                                           "realized roc_auc dropped"}


def test_no_connection_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ml_lifecycle.notifiers"):
        route = send_alert("drift_detected", "churn: drift", "3 columns drifted", conn_id="ml_alerts_not_defined")
    assert route == "log"
    assert any(r.levelno == logging.WARNING and "ALERT [drift_detected] churn: drift: 3 columns drifted" in r.getMessage()
               for r in caplog.records)


def test_an_unreachable_endpoint_is_logged_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    set_connection(monkeypatch, "ml_alerts_down", conn_type="http", host="127.0.0.1", port=9)
    with caplog.at_level(logging.ERROR, logger="ml_lifecycle.notifiers"):
        assert send_alert("x", "title", "message", conn_id="ml_alerts_down", timeout=2) == "log"
    assert any("ALERT not delivered" in r.getMessage() for r in caplog.records)
    with pytest.raises(OSError):
        send_alert("x", "title", "message", conn_id="ml_alerts_down", timeout=2, raise_on_error=True)


def test_email_route_uses_smtplib(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            sent.append((host, port))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def send_message(self, mail: Any) -> None:
            sent.append(mail)

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    set_connection(monkeypatch, "ml_alerts_mail", conn_type="smtp", host="mail.local", port=2525,
                   extra={"from": "ml@example.com", "to": ["a@example.com", "b@example.com"]})
    assert send_alert("task_failed", "subject line", "body text", conn_id="ml_alerts_mail") == "email"
    assert sent[0] == ("mail.local", 2525)
    assert sent[1]["To"] == "a@example.com, b@example.com" and sent[1]["Subject"] == "subject line"


def test_notifier_renders_its_templates_from_the_context(server: tuple[int, list[dict[str, Any]]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = server
    set_connection(monkeypatch, "ml_alerts", conn_type="http", host="127.0.0.1", port=port, schema="alerts")
    notifier = failure_notifier("churn")
    assert isinstance(notifier, MlLifecycleNotifier)
    assert {"title", "message"} <= set(notifier.template_fields)

    class TI:
        dag_id, run_id, task_id, try_number = "churn_daily", "manual__1", "drift_check", 2

    from airflow.sdk import DAG

    notifier({"ti": TI(), "dag": DAG("churn_daily", schedule=None), "run_id": "manual__1", "exception": ValueError("boom")})
    assert notifier.route == "webhook"
    body = received[0]["body"]
    assert body["title"] == "churn_daily.drift_check failed"
    assert body["message"] == "Task drift_check of churn_daily failed (run manual__1, try 2): boom"
    assert body["details"]["task_id"] == "drift_check" and body["details"]["exception"] == "boom"
