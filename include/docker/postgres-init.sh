#!/usr/bin/env bash
# Runs once, when the postgres service first initialises its data volume (/docker-entrypoint-initdb.d/):
# Airflow's database is POSTGRES_DB (owned by POSTGRES_USER); this adds MLflow's role and database.
# The password arrives as a psql variable, quoted by psql (:'...'), never pasted into SQL text.
set -euo pipefail

: "${MLFLOW_DB_PASSWORD:?MLFLOW_DB_PASSWORD must be set (see .env.example)}"
MLFLOW_DB_USER="${MLFLOW_DB_USER:-mlflow}"
MLFLOW_DB_NAME="${MLFLOW_DB_NAME:-mlflow}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v db_user="${MLFLOW_DB_USER}" -v db_name="${MLFLOW_DB_NAME}" -v db_password="${MLFLOW_DB_PASSWORD}" <<'SQL'
CREATE ROLE :"db_user" LOGIN PASSWORD :'db_password';
CREATE DATABASE :"db_name" OWNER :"db_user";
REVOKE ALL ON DATABASE :"db_name" FROM PUBLIC;
SQL
echo "postgres-init: created role ${MLFLOW_DB_USER} and database ${MLFLOW_DB_NAME} for MLflow"
