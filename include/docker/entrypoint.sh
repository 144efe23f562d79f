#!/usr/bin/env bash
# Entry point of the ml-lifecycle image (include/docker/Dockerfile).
#
#   <image> airflow <subcommand> ...      Airflow (api-server, scheduler, celery worker, db migrate, ...)
#   <image> ml-lifecycle <command> ...    the project's CLI (train, validate-spec, lineage, rollback, ...)
#   <image> mlflow server ...             the MLflow server of docker-compose.yaml
#   <image> <airflow subcommand> ...      shorthand: anything that is not a program runs as `airflow ...`
#
# It refuses to start while a value still holds a `change-me` placeholder from .env.example, and, for
# the API server, writes the admin's password (AIRFLOW_ADMIN_PASSWORD) into the simple auth manager's
# password file, so the password comes from .env instead of being generated and printed to the log.
set -euo pipefail

placeholders=$(env | grep -i 'change-me' | cut -d= -f1 | sort | tr '\n' ' ' || true)
if [[ -n "${placeholders}" ]]; then
    echo "ml-lifecycle image: these variables still hold a change-me placeholder from .env.example: ${placeholders}" >&2
    echo "ml-lifecycle image: set real values in .env (see .env.example for how to generate them)" >&2
    exit 78
fi

if [[ -n "${AIRFLOW_ADMIN_PASSWORD:-}" && -n "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-}" ]]; then
    python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
user = os.environ.get("AIRFLOW_ADMIN_USER", "admin")
os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(descriptor, "w") as stream:
    stream.write(json.dumps({user: os.environ["AIRFLOW_ADMIN_PASSWORD"]}) + "\n")
PY
    unset AIRFLOW_ADMIN_PASSWORD
fi

if [[ $# -eq 0 ]]; then
    set -- airflow version
elif ! command -v "$1" >/dev/null 2>&1; then
    set -- airflow "$@"
fi
exec "$@"
