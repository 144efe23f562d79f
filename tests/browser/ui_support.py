"""Shared pieces of the browser tests (fixtures in conftest.py): a real lifecycle state, a real
``airflow api-server`` on a loopback port, and Debian's chromium.

The state is made once per session by the demo itself (``ml-lifecycle demo``, 12 days, two promotions, a
rollback and a re-promotion) in a subprocess with its own home under this session's ``.local/tests/<pid>/``:
its Airflow DB, MLflow store and lake are its own, whatever other test modules did to the session's
state. The API server runs with the same environment, with SimpleAuthManager's real login (users and
passwords, not the all-admins mode, in which every request is an admin and nothing can be refused).

Screenshots go to ``.local/tests/artifacts/`` (kept after the session).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from ml_lifecycle.settings import embedded_environment, project_root

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = project_root() / ".local" / "tests" / "artifacts"
USERS = {"admin": ("ADMIN", "admin-password-for-tests"), "viewer": ("VIEWER", "viewer-password-for-tests")}
# The demo's plan, small: 587 rows a day; v1 trained on day 5; a broken file on day 6; drift from day 10
# asks for retraining on day 12 (the weekly cap blocks it before), v2 is promoted, then rolled back and
# re-promoted through churn_rollback.
DEMO_ARGS = ["--days", "12", "--label-delay-days", "2", "--first-training-day", "5", "--corrupt-day", "6",
             "--drift-start-day", "10"]
MLFLOW_UI = "http://localhost:5000"  # the embedded default's ui_url: MLflow links point there
# A home the same demo plan filled before: iterate on the UI without replaying the demo (~3 min).
REUSE_STATE = "ML_LIFECYCLE_BROWSER_STATE"


@dataclass(frozen=True)
class UiState:
    home: Path
    env: dict[str, str]
    demo_seconds: float

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def token(self, user: str = "admin") -> str:
        body = json.dumps({"username": user, "password": USERS[user][1]}).encode()
        request = urllib.request.Request(f"{self.url}/auth/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.load(response)["access_token"])


def isolated_env(home: Path) -> dict[str, str]:
    """This process's environment without the session's embedded-default values, pointed at ``home``."""
    env = {k: v for k, v in os.environ.items() if k not in embedded_environment()}
    # embedded_environment() lets variables already set win: compute it over the stripped environment
    with mock.patch.dict(os.environ, env, clear=True):
        env.update(embedded_environment(home))
    return env


@dataclass(frozen=True)
class Browser:
    playwright: Any
    context: Any  # logged in as admin

    def fresh_context(self, profile: Path) -> Any:
        """Another chromium with its own fresh profile: no cookie, never logged in."""
        return launch(self.playwright, profile)


def launch(playwright: Any, profile: Path) -> Any:
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    # No MLflow UI runs in the test: answer its URL so that following an MLflow link lands somewhere.
    context.route(f"{MLFLOW_UI}/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html><title>MLflow (stub)</title><body>MLflow</body></html>"))
    return context


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
