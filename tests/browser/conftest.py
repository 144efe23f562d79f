"""Fixtures of the browser tests: the demo's state, ``airflow api-server`` and a logged-in chromium.

See ``ui_support.py`` for what they build and why.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import (
    ARTIFACTS,
    CHROMIUM,
    DEMO_ARGS,
    REUSE_STATE,
    USERS,
    Browser,
    Server,
    UiState,
    isolated_env,
    launch,
    screenshot,
)

from ml_lifecycle.settings import project_root


@pytest.fixture(scope="session")
def ui_state() -> UiState:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps` (apt-get install chromium)")
    reuse = os.environ.get(REUSE_STATE)
    if reuse:  # a home the same demo plan filled before: iterate on the UI without replaying the demo
        home = Path(reuse).resolve()
        return UiState(home=home, env=isolated_env(home), demo_seconds=0.0)
    home = Path(os.environ["ML_LIFECYCLE_LOCAL_HOME"]) / "browser"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = isolated_env(home)
    started = time.perf_counter()
    demo = subprocess.run([sys.executable, "-m", "ml_lifecycle.cli", "demo", *DEMO_ARGS], env=env,
                          cwd=project_root(), capture_output=True, text=True, timeout=900)
    (home / "demo.out").write_text(demo.stdout + demo.stderr)
    assert demo.returncode == 0, f"the demo failed ({home / 'demo.out'}):\n{demo.stdout[-3000:]}{demo.stderr[-3000:]}"
    return UiState(home=home, env=env, demo_seconds=time.perf_counter() - started)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(ui_state: UiState) -> Iterator[Server]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    passwords = ui_state.home / "passwords.json"
    passwords.write_text(json.dumps({user: password for user, (_, password) in USERS.items()}))
    env = {
        **ui_state.env,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{role}" for u, (role, _) in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
    }
    log = ui_state.home / "api-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, cwd=ui_state.home, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, process, log)
        yield Server(url=url, process=process, log=log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"airflow api-server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1.0)
    raise AssertionError(f"airflow api-server did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium with a fresh profile, logged in through SimpleAuthManager's login page (screenshot kept)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            page = context.new_page()
            page.goto(f"{server.url}/")
            page.wait_for_url("**/auth/login**")  # not logged in: the UI sends the browser to the login page
            page.locator("input").first.wait_for()
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(USERS["admin"][1])
            screenshot(page, "01_login")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url)
            assert any(cookie["name"] == "_token" for cookie in context.cookies())
            page.close()
            yield Browser(playwright=playwright, context=context)
        finally:
            context.close()
