"""docker-compose.yaml and the image, checked without a Docker engine.

- the file is valid against the Compose Specification's JSON schema (vendored in include/docker/, see
  its README for the exact source) and, when a Compose client is installed, `docker compose config -q`
  accepts it with an .env made from .env.example;
- every service's command (and every healthcheck that runs our tools) is accepted by the tools installed
  in .venv: `airflow ... --help`, `mlflow server --help` with each option used, `ml-lifecycle ... --help`;
- secrets come only from .env, every variable is documented in .env.example, healthchecks and
  depends_on conditions are there, the Airflow services share one image and one environment;
- the Dockerfile installs from the lock with --frozen and copies dags/plugins/include, and its entrypoint
  runs `ml-lifecycle --help` and `airflow version` here as a plain process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml_lifecycle.settings import project_root

ROOT = project_root()
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKER_DIR = ROOT / "include" / "docker"
SCHEMA = DOCKER_DIR / "compose-spec.json"
SCHEMA_SHA256 = "e4e1a42ce687c47e199551d1f025b1e713a4d1f9302706d3f89de9cef1d376a4"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"
POSTGRES_INIT = DOCKER_DIR / "postgres-init.sh"
VENV_BIN = Path(sys.executable).parent

AIRFLOW_SERVICES = {
    "airflow-apiserver": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
    "airflow-init": ["airflow", "db", "migrate"],
}
ONE_SHOT = {"airflow-init", "minio-init"}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|TOKEN|FERNET)", re.IGNORECASE)
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")  # not $${...} (escaped)
INTERPOLATED_SECRET = re.compile(r"\$\{[A-Z0-9_]+:\?[^}]+\}")


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def code(text: str) -> str:
    """The compose file without its comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


@pytest.fixture(scope="module")
def compose(text: str) -> dict[str, Any]:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def tool_env(tmp_path: Path) -> dict[str, str]:
    """The project's environment with a throwaway AIRFLOW_HOME (never ~/airflow)."""
    home = tmp_path / "airflow-home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def options_in(argv: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in argv if re.match(r"--?[A-Za-z]", arg)]


def healthcheck_argv(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    if test[0] == "CMD":
        return list(test[1:])
    assert test[0] == "CMD-SHELL", test
    return shlex.split(test[1].replace("$${HOSTNAME}", "host"))


# ---- (a) the Compose Specification ------------------------------------------------------------

def test_vendored_schema_is_the_recorded_compose_spec():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text())
    assert schema["title"] == "Compose Specification" and schema["$id"] == "compose_spec.json"
    assert SCHEMA_SHA256 in (DOCKER_DIR / "README.md").read_text()


def test_compose_file_matches_the_compose_specification(compose):
    import jsonschema

    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    # The schema is strict enough to catch a typo (so the check above means something).
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["helthcheck"] = broken["services"]["redis"].pop("healthcheck")
    assert any("helthcheck" in e.message for e in validator.iter_errors(broken))


def compose_client() -> list[str] | None:
    """`docker compose` (plugin), else `docker-compose` (v2), else $COMPOSE_BIN; None when none works."""
    candidates = [[os.environ["COMPOSE_BIN"]]] if os.environ.get("COMPOSE_BIN") else []
    candidates += [["docker", "compose"], ["docker-compose"]]
    for argv in candidates:
        if shutil.which(argv[0]) is None:
            continue
        try:
            version = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if version.returncode == 0 and re.search(r"\bv?2\.\d+", version.stdout):
            return argv
    return None


def test_docker_compose_config_accepts_the_file(tmp_path):
    client = compose_client()
    if client is None:
        pytest.skip("no Compose v2 client here (`docker compose` plugin, `docker-compose` or $COMPOSE_BIN)")
    env_file = tmp_path / ".env"
    shutil.copy(ENV_EXAMPLE, env_file)
    base = [*client, "--project-directory", str(ROOT), "-f", str(COMPOSE), "--env-file", str(env_file)]
    clean_env = {k: v for k, v in os.environ.items() if k not in env_example()}
    checked = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, timeout=60, env=clean_env)
    assert checked.returncode == 0, checked.stderr
    # A secret missing from .env stops compose with the variable's name.
    env_file.write_text("\n".join(line for line in ENV_EXAMPLE.read_text().splitlines()
                                  if not line.startswith("AIRFLOW_JWT_SECRET=")))
    missing = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, timeout=60, env=clean_env)
    assert missing.returncode != 0 and "AIRFLOW_JWT_SECRET" in missing.stderr


# ---- (b) every command is accepted by the installed tools --------------------------------------

def test_the_expected_services_run_the_expected_programs(services):
    assert set(services) == {*AIRFLOW_SERVICES, "postgres", "redis", "minio", "minio-init", "mlflow"}
    for name, program in AIRFLOW_SERVICES.items():
        assert services[name]["command"][: len(program)] == program, name
    assert services["mlflow"]["command"][:2] == ["mlflow", "server"]


def test_airflow_and_celery_commands_are_accepted_by_the_installed_airflow(services, tmp_path):
    """`<command> --help` for every Airflow service and every healthcheck that runs airflow or celery."""
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    for name in AIRFLOW_SERVICES:
        if "healthcheck" in services[name]:
            probe = healthcheck_argv(services[name])
            if probe[0] in ("airflow", "celery"):
                commands[f"{name} healthcheck"] = probe
    assert {p[0] for p in commands.values()} == {"airflow", "celery"}
    env = {**tool_env(tmp_path), **services["airflow-worker"]["environment"]}
    env = {k: str(v) for k, v in env.items() if "${" not in str(v)}

    def help_of(argv: list[str]) -> tuple[str, ...]:  # the program and subcommand, up to the first option
        return tuple(argv[: next((i for i, a in enumerate(argv) if a.startswith("-") and i > 0), len(argv))])

    def check(key: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str]]:
        if key[0] == "celery":  # celery's subcommand help needs the --app it is given
            key = tuple(next(argv for argv in commands.values() if argv[0] == "celery")[:5])
        return key, run([str(VENV_BIN / key[0]), *key[1:], "--help"], env)

    keys = sorted({help_of(argv) for argv in commands.values()})
    with ThreadPoolExecutor(max_workers=2) as pool:
        helps = {help_of(list(key)): done for key, done in pool.map(check, keys)}
    results = [(argv, helps[help_of(argv)]) for argv in commands.values()]
    for argv, done in results:
        assert done.returncode == 0, f"{argv}: {done.stderr[-2000:]}"
        # celery's global options (--app, before the subcommand) were accepted when it printed the
        # subcommand's help: it loaded Airflow's Celery app to do so. The rest must be in that help.
        local = argv[argv.index("inspect"):] if argv[0] == "celery" else argv
        for option in options_in(local):
            assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", done.stdout), (
                f"{argv}: {option} is not an option of the installed tool")
    checks = {tuple(argv): done.stdout for argv, done in results}
    jobs = [out for argv, out in checks.items() if argv[:3] == ("airflow", "jobs", "check")]
    assert jobs and all("DagProcessorJob" in out and "TriggererJob" in out for out in jobs)


def test_mlflow_server_command_is_accepted_by_the_installed_mlflow(services, tmp_path):
    command = services["mlflow"]["command"]
    done = run([str(VENV_BIN / "mlflow"), "server", "--help"], tool_env(tmp_path))
    assert done.returncode == 0, done.stderr
    used = options_in(command)
    assert {"--backend-store-uri", "--artifacts-destination", "--serve-artifacts"} <= set(used)
    for option in used:
        assert option in done.stdout, f"mlflow server has no option {option}"
    value = dict(zip(command, command[1:], strict=False))
    assert value["--backend-store-uri"].startswith("postgresql://mlflow:${MLFLOW_DB_PASSWORD:?")
    assert value["--backend-store-uri"].endswith("@postgres:5432/mlflow")
    assert value["--artifacts-destination"].startswith("s3://${MLFLOW_BUCKET")
    # The other containers reach it as mlflow:5000: that Host header must be allowed.
    assert "mlflow:5000" in value["--allowed-hosts"].split(",")
    assert services["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"


def test_ml_lifecycle_commands_are_accepted(tmp_path):
    env = tool_env(tmp_path)
    for argv in (["--help"], ["train", "--help"], ["validate-spec", "--help"], ["lineage", "--help"]):
        done = run([str(VENV_BIN / "ml-lifecycle"), *argv], env)
        assert done.returncode == 0, done.stderr
    train_help = run([str(VENV_BIN / "ml-lifecycle"), "train", "--help"], env).stdout
    for option in ("--pipeline", "--window-json", "--run-id", "--lineage-json"):
        assert option in train_help


# ---- (c) secrets, variables, health, one image ---------------------------------------------------

def test_every_variable_is_in_env_example(code):
    documented = env_example()
    used = set(VARIABLE.findall(code))
    assert used, "no ${VAR} found"
    assert sorted(used - set(documented)) == []
    # ... and nothing in .env.example that the compose file does not use.
    assert sorted(set(documented) - used) == []


def test_secrets_come_only_from_env(text, code, services):
    placeholders = {v for v in env_example().values() if "change-me" in v}
    assert placeholders and not [p for p in placeholders if p in text]
    for name, service in services.items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: use a mapping for environment"
        for key, value in environment.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert INTERPOLATED_SECRET.fullmatch(str(value)), f"{name}.{key} must be ${{VAR:?...}}"
    # Secrets inside URLs are interpolated too, and fail loudly when missing.
    urls_with_password = list(re.finditer(r"://[^:\s/'\"]+:(\$\{[^}]*\}|[^@\s'\"]+)@", code))
    assert len(urls_with_password) == 3  # Airflow's DB, Celery's result backend, MLflow's store
    for match in urls_with_password:
        assert INTERPOLATED_SECRET.fullmatch(match.group(1)), match.group(0)
    assert "/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_healthchecks_and_dependency_conditions(services):
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert service.get("restart") == "always", name
        else:
            assert service.get("restart") == "no", name
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition == {"condition": wanted}, f"{name} -> {dependency}"
    worker = services["airflow-worker"]["depends_on"]
    assert {"postgres", "redis", "airflow-apiserver", "airflow-init", "mlflow", "minio-init"} <= set(worker)
    assert services["mlflow"]["depends_on"].keys() == {"postgres", "minio-init"}


def test_airflow_services_share_one_image_and_the_common_environment(text, compose, services):
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        assert re.search(rf"^  {name}:\n    <<: \*airflow-common$", text, re.MULTILINE), name
        assert services[name]["image"] == common["image"]
        environment = services[name]["environment"]
        assert {k: environment[k] for k in common["environment"]} == common["environment"], name
    assert services["mlflow"]["image"] == common["image"]
    env = common["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:")
    assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "ml_lifecycle.celery_config.CELERY_CONFIG"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["ML_LIFECYCLE_LAKE_ROOT"].startswith("s3://") and env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    # AIRFLOW__* names are real options of the installed Airflow.
    from airflow.configuration import conf

    described = conf.configuration_description  # core's and the installed providers' options
    for key in env:
        if key.startswith("AIRFLOW__"):
            section, option = key[len("AIRFLOW__"):].lower().split("__", 1)
            assert option in described.get(section, {}).get("options", {}), key


def test_mlflow_connection_is_read_by_the_project_hook(compose, monkeypatch):
    from ml_lifecycle.hooks.mlflow import MlflowHook

    env = compose["x-airflow-common"]["environment"]
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", env["AIRFLOW_CONN_MLFLOW_DEFAULT"])
    target = MlflowHook().get_target()
    assert target.tracking_uri == env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert target.ui_url == env["ML_LIFECYCLE_MLFLOW_UI_URL"] == "http://localhost:5000"
    assert target.artifact_location is None  # the server's --artifacts-destination decides


def test_postgres_init_script_creates_mlflow_role_and_database(services):
    """Run against this machine's PostgreSQL (trust auth) with unique names, then drop them."""
    assert "./include/docker/postgres-init.sh:/docker-entrypoint-initdb.d/10-mlflow.sh:ro" in (
        services["postgres"]["volumes"])
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    base = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "5432"}
    if run(["psql", "-U", "postgres", "-d", "postgres", "-tAc", "select 1"], base, timeout=10).returncode:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"mlflow_init_test_{uuid.uuid4().hex[:8]}"
    env = {**base, "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres", "MLFLOW_DB_USER": name,
           "MLFLOW_DB_NAME": name, "MLFLOW_DB_PASSWORD": "it's a pass'word; DROP TABLE x"}
    try:
        done = run(["bash", str(POSTGRES_INIT)], env, timeout=60)
        assert done.returncode == 0, done.stderr
        owner = run(["psql", "-U", "postgres", "-d", "postgres", "-tAc",
                     f"select pg_get_userbyid(datdba) from pg_database where datname = '{name}'"], base, timeout=10)
        assert owner.stdout.strip() == name
    finally:
        run(["psql", "-U", "postgres", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"'], base, timeout=30)
        run(["psql", "-U", "postgres", "-d", "postgres", "-c", f'DROP ROLE IF EXISTS "{name}"'], base, timeout=30)


# ---- (d) the Dockerfile and its entrypoint --------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def test_dockerfile_installs_the_locked_project_and_copies_its_folders():
    instructions = dockerfile_instructions()
    assert instructions[0][0] in ("ARG", "FROM")
    assert any(k == "FROM" and v.startswith("python:${PYTHON_VERSION}-slim") for k, v in instructions)
    assert ("ARG", "PYTHON_VERSION=3.11") in instructions
    runs = [v for k, v in instructions if k == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2 and all("--frozen" in r and "--no-dev" in r and "--all-extras" in r for r in syncs)
    assert "--no-install-project" in syncs[0]  # the dependency layer, from the lock alone
    copies = [v for k, v in instructions if k == "COPY"]
    assert copies[0] == "pyproject.toml uv.lock ./"
    for folder in ("dags/", "plugins/", "include/"):
        assert f"{folder} {folder}" in copies
    # uv as the Makefile pins it; a non-root user; the entrypoint script.
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert makefile_uv and ("ARG", f"UV_VERSION={makefile_uv.group(1)}") in instructions
    user = [v for k, v in instructions if k == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    entrypoint = json.loads(next(v for k, v in instructions if k == "ENTRYPOINT"))
    assert entrypoint[-1] == "/opt/ml-lifecycle/include/docker/entrypoint.sh"
    assert os.access(ENTRYPOINT, os.X_OK) and os.access(POSTGRES_INIT, os.X_OK)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", ".local", ".git", ".env"} <= set(ignored)
    assert not {"dags", "plugins", "include", "uv.lock", "pyproject.toml", "README.md"} & set(ignored)


def test_the_lock_gives_the_image_the_scale_out_packages_and_no_dev_tools():
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed")
    done = subprocess.run([uv, "export", "--frozen", "--all-extras", "--no-dev", "--no-hashes", "--offline"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    names = {re.split(r"[=<>; ]", line, maxsplit=1)[0].lower() for line in done.stdout.splitlines()
             if line and not line.startswith(("#", " ", "-"))}
    for needed in ("apache-airflow", "apache-airflow-providers-celery", "apache-airflow-providers-postgres",
                   "apache-airflow-providers-docker", "mlflow", "psycopg2-binary", "boto3", "s3fs", "redis"):
        assert needed in names, needed
    assert not {"pytest", "ruff", "mypy", "moto", "playwright"} & names


def test_entrypoint_runs_our_programs_as_a_plain_process(tmp_path):
    env = tool_env(tmp_path)
    help_text = run(["bash", str(ENTRYPOINT), "ml-lifecycle", "--help"], env)
    assert help_text.returncode == 0 and "train" in help_text.stdout, help_text.stderr
    version = run(["bash", str(ENTRYPOINT), "airflow", "version"], env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().splitlines()[-1].startswith("3.3.")
    # An Airflow subcommand alone runs as `airflow <subcommand>`, as in the official image.
    shorthand = run(["bash", str(ENTRYPOINT), "version"], env)
    assert shorthand.stdout == version.stdout


def test_entrypoint_refuses_placeholders_and_writes_the_admin_password(tmp_path):
    env = tool_env(tmp_path)
    refused = run(["bash", str(ENTRYPOINT), "true"], {**env, "AIRFLOW__CORE__FERNET_KEY": "change-me-fernet-key"})
    assert refused.returncode == 78 and "AIRFLOW__CORE__FERNET_KEY" in refused.stderr
    passwords = tmp_path / "local" / "passwords.json"
    done = run(["bash", str(ENTRYPOINT), "bash", "-c", 'echo "left:${AIRFLOW_ADMIN_PASSWORD:-}"'],
               {**env, "AIRFLOW_ADMIN_PASSWORD": "s3cret", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE":
                str(passwords)})
    assert done.returncode == 0, done.stderr
    assert json.loads(passwords.read_text()) == {"admin": "s3cret"}
    assert passwords.stat().st_mode & 0o077 == 0
    assert done.stdout.strip() == "left:"  # the password is not passed on to the service's process
