"""`ml-lifecycle up` before it starts anything: a port already taken is refused with who holds it, and
every service is started to listen on loopback only, the scheduler through the preloading entry point."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from ml_lifecycle.embedded import services


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ML_LIFECYCLE_LOCAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_free_port_has_no_holder():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert services.port_holder(port) is None


def test_up_refuses_a_taken_port_naming_it_and_its_holder_and_starts_nothing(home, monkeypatch):
    with _listening_socket() as held, _listening_socket() as mlflow_probe:
        port = held.getsockname()[1]
        mlflow_port = mlflow_probe.getsockname()[1]
        mlflow_probe.close()  # free again: only the Airflow port is taken
        monkeypatch.setenv("ML_LIFECYCLE_AIRFLOW_PORT", str(port))
        monkeypatch.setenv("ML_LIFECYCLE_MLFLOW_PORT", str(mlflow_port))
        with pytest.raises(services.ServiceError) as refused:
            services.up(say=lambda line: None)
    message = str(refused.value)
    assert f"port {port} for api-server is taken by pid {os.getpid()}" in message
    assert f"127.0.0.1:{port}" in message and "ML_LIFECYCLE_AIRFLOW_PORT" in message
    assert "mlflow" not in message.split(".")[0]
    assert not list((home / "run").glob("*.pid"))


def test_services_listen_on_loopback_without_log_servers_and_the_scheduler_preloads(home, monkeypatch):
    monkeypatch.delenv("ML_LIFECYCLE_SCHEDULER_PRELOAD", raising=False)
    by_name = {service.name: service for service in services.services()}
    assert list(by_name) == ["api-server", "dag-processor", "scheduler", "triggerer", "mlflow"]
    for name in ("api-server", "mlflow"):
        argv = by_name[name].argv
        assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert by_name["scheduler"].argv == (sys.executable, "-m", "ml_lifecycle.cli", "scheduler", "--skip-serve-logs")
    assert by_name["triggerer"].argv[-1] == "--skip-serve-logs"
    monkeypatch.setenv("ML_LIFECYCLE_SCHEDULER_PRELOAD", "0")
    plain = {service.name: service for service in services.services()}["scheduler"]
    assert plain.argv == (sys.executable, "-m", "airflow", "scheduler", "--skip-serve-logs")


def test_the_scheduler_command_imports_the_task_libraries_before_airflows_cli(monkeypatch):
    from ml_lifecycle import cli
    from ml_lifecycle.embedded import scheduler

    seen: dict[str, object] = {}

    def fake_airflow_main() -> None:
        seen["argv"] = list(sys.argv)
        seen["preloaded"] = "ml_lifecycle.embedded.preload" in sys.modules and "sklearn" in sys.modules

    import airflow.__main__

    monkeypatch.setattr(airflow.__main__, "main", fake_airflow_main)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(cli, "apply_embedded_environment", lambda: {})  # the test session keeps its settings
    assert scheduler.run_scheduler.__module__ == "ml_lifecycle.embedded.scheduler"
    assert cli.main(["scheduler", "--skip-serve-logs", "-n", "1"]) == 0
    assert seen == {"argv": ["airflow", "scheduler", "--skip-serve-logs", "-n", "1"], "preloaded": True}
