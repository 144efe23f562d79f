"""Training in a container (ContainerTrainModelOperator), tested without a Docker engine.

The operator's container command is run here as a plain process, through the image's entrypoint, with
only the environment the operator gives the container: it trains on a real validated lake, registers a
real version in a local MLflow, and the operator reads the result back from the log exactly as it does
from Docker's log stream (a stand-in for docker's APIClient replays the process's output). The parsed
dict then goes through the real EvaluateModelOperator, as in the training DAG.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from ml_lifecycle.exceptions import SpecError
from ml_lifecycle.operators.container import (
    RESULT_KEYS,
    ContainerTrainingError,
    ContainerTrainModelOperator,
    parse_result,
)
from ml_lifecycle.settings import include_dir, project_root
from ml_lifecycle.spec import load_spec, spec_path
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.ui.links import MLFLOW_RUN_XCOM_KEY, MODEL_VERSION_XCOM_KEY
from support import local_tracking, validated_lake

ENTRYPOINT = project_root() / "include" / "docker" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent
START = date(2024, 3, 1)
DAYS = 10
UI_URL = "http://mlflow.example:5000"
CONTAINER = {
    "image": "ml-lifecycle:local",
    "docker_url": "tcp://docker-proxy:2375",
    "network_mode": "ml-lifecycle",
    "mounts": [{"source": "ml-scratch", "target": "/scratch"},
               {"source": "/srv/lake", "target": "/srv/lake", "type": "bind", "read_only": True}],
    "environment": {"OMP_NUM_THREADS": "1"},
    "auto_remove": "force",
    "mem_limit": "4g",
}


def write_spec(folder: Path, container: dict[str, Any] | None) -> Path:
    raw = yaml.safe_load(spec_path("churn").read_text())
    if container is not None:
        raw["training"]["container"] = container
    path = folder / "churn.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def context(run_id: str = "manual__2024-03-10T00:00:00+00:00") -> dict[str, Any]:
    pushed: dict[str, Any] = {}
    ti = SimpleNamespace(dag_id="churn_training", run_id=run_id, task_id="train", try_number=1,
                         log_url="http://localhost:8080/dags/churn_training/runs/x/tasks/train",
                         xcom_push=lambda key, value: pushed.__setitem__(key, value), pushed=pushed)
    return {"ti": ti}


def use_connection(monkeypatch: pytest.MonkeyPatch, target: TrackingTarget) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps({
        "conn_type": "generic",
        "extra": {"tracking_uri": target.tracking_uri, "artifact_location": target.artifact_location,
                  "ui_url": UI_URL},
    }))


class ReplayDocker:
    """Docker's APIClient, as much of it as DockerOperator uses: `start` runs the container's command
    here, through the image's entrypoint, with the container's environment only; `attach` streams its
    output (stdout and stderr interleaved, as Docker does)."""

    def __init__(self, image_env: dict[str, str]) -> None:
        self.image_env = image_env
        self.created: dict[str, Any] = {}
        self.output = b""
        self.status = 0
        self.removed: list[tuple[str, bool]] = []

    def images(self, name: str) -> list[dict[str, str]]:
        return [{"Id": name}]

    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def create_container(self, **kwargs: Any) -> dict[str, str]:
        self.created = kwargs
        return {"Id": "container-1"}

    def attach(self, **_: Any) -> Iterator[bytes]:
        def stream() -> Iterator[bytes]:
            yield from (self.output[i:i + 4096] for i in range(0, len(self.output), 4096))
        return stream()

    def start(self, container_id: str) -> None:
        env = {**self.image_env, **self.created["environment"]}
        done = subprocess.run(["bash", str(ENTRYPOINT), *self.created["command"]], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        self.output, self.status = done.stdout, done.returncode

    def wait(self, container_id: str) -> dict[str, int]:
        return {"StatusCode": self.status}

    def remove_container(self, container_id: str, force: bool = False) -> None:
        self.removed.append((container_id, force))


# ---- the spec section ---------------------------------------------------------------------------

@pytest.mark.parametrize(("container", "message"), [
    ({"image": ""}, r"training\.container\.image: String should have at least 1 character"),
    ({"image": "x", "mounts": [{"target": "data", "source": "v"}]}, r"training\.container\.mounts\.0\.target"),
    ({"image": "x", "mounts": [{"target": "/data", "type": "bind"}]},
     r"training\.container\.mounts\.0: Value error, a bind mount needs a source"),
    ({"image": "x", "auto_remove": "always"}, r"training\.container\.auto_remove: Input should be"),
    ({"image": "x", "enviroment": {"A": "b"}}, r"training\.container\.enviroment: Extra inputs are not permitted"),
    ({"image": "x", "environment": {"MLFLOW_TRACKING_URI": "http://elsewhere"}},
     r"training\.container\.environment: .*MLFLOW_TRACKING_URI.*mlflow_default connection"),
    ({"docker_url": "unix://var/run/docker.sock"}, r"training\.container\.image: Field required"),
])
def test_a_bad_container_section_names_the_field(tmp_path, container, message):
    with pytest.raises(SpecError, match=message) as error:
        load_spec(write_spec(tmp_path, container))
    assert "churn.yaml: invalid pipeline spec" in str(error.value)


def test_a_container_dag_without_the_spec_section_fails_naming_it(tmp_path):
    operator = ContainerTrainModelOperator(task_id="train", pipeline=str(write_spec(tmp_path, None)), window={})
    with pytest.raises(SpecError, match=r"churn\.yaml: training\.container: .*no training\.container section"):
        operator.prepare(context())


def test_the_committed_schema_has_the_container_section():
    schema = json.loads((include_dir() / "pipelines" / "pipeline.schema.json").read_text())
    container = schema["$defs"]["TrainingContainerSpec"]
    assert container["required"] == ["image"] and container["additionalProperties"] is False
    assert {"image", "docker_url", "docker_conn_id", "network_mode", "mounts", "environment",
            "auto_remove"} <= set(container["properties"])


# ---- what the operator gives Docker -------------------------------------------------------------

def test_operator_builds_the_container_command_environment_and_mounts(tmp_path, monkeypatch):
    target = TrackingTarget(tracking_uri="http://mlflow:5000", ui_url=UI_URL)
    use_connection(monkeypatch, target)
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_ROOT", "s3://ml-lake/lake")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    window = {"as_of": "2024-03-10", "train_path": "s3://ml-lake/lake/training/churn/ds=2024-03-10/train.parquet"}
    spec_file = write_spec(tmp_path, CONTAINER)
    operator = ContainerTrainModelOperator(task_id="train", pipeline=str(spec_file), window=window)
    assert {"window", "pipeline", "image", "command", "environment", "mounts"} <= set(operator.template_fields)
    ctx = context()
    operator.prepare(ctx)

    assert operator.image == "ml-lifecycle:local"
    assert operator.docker_url == "tcp://docker-proxy:2375"
    assert operator.network_mode == "ml-lifecycle"
    assert operator.auto_remove == "force" and operator.mem_limit == "4g" and operator.mount_tmp_dir is False
    assert operator.mounts == [{"source": "ml-scratch", "target": "/scratch", "type": "volume", "read_only": False},
                               {"source": "/srv/lake", "target": "/srv/lake", "type": "bind", "read_only": True}]
    assert operator.command[:4] == ["ml-lifecycle", "train", "--pipeline", str(spec_file)]
    args = dict(zip(operator.command[2::2], operator.command[3::2], strict=True))
    assert json.loads(args["--window-json"]) == window
    assert args["--run-id"] == ctx["ti"].run_id
    lineage = json.loads(args["--lineage-json"])
    assert lineage["airflow.dag_id"] == "churn_training" and lineage["airflow.task_id"] == "train"
    assert operator.environment == {
        "OMP_NUM_THREADS": "1",
        "AWS_ENDPOINT_URL": "http://minio:9000",
        "MLFLOW_TRACKING_URI": "http://mlflow:5000",
        "ML_LIFECYCLE_MLFLOW_ARTIFACTS": "",
        "ML_LIFECYCLE_MLFLOW_UI_URL": UI_URL,
        "ML_LIFECYCLE_LAKE_ROOT": "s3://ml-lake/lake",
        "PYTHONUNBUFFERED": "1",
        **{k: v for k, v in operator.environment.items() if k in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")},
    }
    # Secrets go where the provider neither templates nor shows them.
    assert operator._private_environment == {"AWS_ACCESS_KEY_ID": "key-id", "AWS_SECRET_ACCESS_KEY": "secret"}
    assert "secret" not in json.dumps(operator.environment)


def test_parse_result_takes_the_last_result_line():
    result = {key: "1" for key in RESULT_KEYS}
    lines = ["Successfully registered model 'churn_classifier'.", json.dumps({"other": 1}), json.dumps(result),
             "WARNING: something printed at exit to stderr"]
    assert parse_result(lines) == result
    assert parse_result("\n".join(lines)) == result
    with pytest.raises(ContainerTrainingError, match=r"(?s)printed no result line.*Traceback"):
        parse_result(["starting", "Traceback (most recent call last):"])


def test_training_tasks_choose_the_operator_and_keep_evaluate_wired(monkeypatch):
    from airflow.sdk import DAG

    from ml_lifecycle.operators import TrainModelOperator
    from ml_lifecycle.workflows import training_tasks

    with DAG("container_training_test", schedule=None):
        tasks = training_tasks("churn", container=True)
    with DAG("in_process_training_test", schedule=None):
        plain = training_tasks("churn")
    assert type(tasks.train) is ContainerTrainModelOperator
    assert type(plain.train) is TrainModelOperator
    assert tasks.train.task_id == plain.train.task_id == "train"
    assert tasks.evaluate.model.operator is tasks.train  # evaluate reads the train task's XCom, unchanged
    assert tasks.train.window.operator is tasks.assemble_window
    assert type(tasks.train).operator_extra_links == TrainModelOperator.operator_extra_links


def test_dag_files_and_specs_agree_on_container_training():
    """A DAG file asks for container training exactly when its pipeline's spec has the section."""
    dags = project_root() / "dags"
    for spec_file in sorted((include_dir() / "pipelines").glob("*.yaml")):
        spec = load_spec(spec_file)
        dag_file = dags / f"{spec.name}_training.py"
        if not dag_file.exists():
            continue
        asks = bool(re.search(r"training_tasks\([^)]*container\s*=\s*True", dag_file.read_text()))
        assert asks == (spec.training.container is not None), dag_file.name


def test_dag_files_do_not_import_the_docker_provider():
    code = ("import sys; import ml_lifecycle.workflows, ml_lifecycle.operators; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'docker' "
            "or m.startswith(('airflow.providers.docker.operators', 'airflow.providers.docker.hooks'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(project_root() / "plugins")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# ---- the container's command, run here -----------------------------------------------------------

@pytest.fixture(scope="module")
def trained_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    from ml_lifecycle.training import assemble_window

    spec = load_spec("churn")
    lake, _ = validated_lake(spec, tmp_path_factory.mktemp("lake"), start=START, days=DAYS,
                             label_delay_days=3, seed=5)
    return lake, assemble_window(spec, lake, (START + timedelta(days=DAYS - 1)).isoformat())


def test_container_command_trains_registers_and_feeds_evaluate(trained_lake, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from ml_lifecycle.operators import EvaluateModelOperator

    lake, window = trained_lake
    target = local_tracking(tmp_path / "mlflow")
    use_connection(monkeypatch, target)
    spec_file = write_spec(tmp_path, {"image": "ml-lifecycle:local", "network_mode": "none"})
    operator = ContainerTrainModelOperator(task_id="train", pipeline=str(spec_file), window=window,
                                           lake_root=str(lake.root))
    # What the image's ENV gives every container (include/docker/Dockerfile), pointed at this checkout.
    image_env = {"PATH": f"{VENV_BIN}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path),
                 "ML_LIFECYCLE_LOCAL_HOME": str(tmp_path / "container-home"), "PYTHONDONTWRITEBYTECODE": "1",
                 "AIRFLOW_HOME": str(tmp_path / "container-home" / "airflow"), "GIT_PYTHON_REFRESH": "quiet"}
    docker = ReplayDocker(image_env)
    operator.__dict__["hook"] = SimpleNamespace(api_client=docker, client_created=True)
    ctx = context()

    result = operator.execute(ctx)

    output = docker.output.decode()
    assert docker.status == 0, output[-3000:]
    assert docker.created["image"] == "ml-lifecycle:local"
    assert docker.created["host_config"]["network_mode"] == "none"
    assert docker.created["command"][:2] == ["ml-lifecycle", "train"]
    assert docker.removed == [("container-1", False)]  # auto_remove: success
    # The result is the dict TrainModelOperator returns (train_and_register's keys + core_seconds) ...
    assert set(result) == RESULT_KEYS | {"core_seconds"}
    assert json.loads(output.strip().splitlines()[-1]) == result  # ... from the last line of stdout
    assert result["version"] == "1" and result["model_uri"] == "models:/churn_classifier/1"
    assert result["train_rows"] == window["train_rows"]
    # ... with the same MLflow link and a real registered version carrying the Airflow lineage.
    assert ctx["ti"].pushed == {
        MLFLOW_RUN_XCOM_KEY: f"{UI_URL}/#/experiments/{result['experiment_id']}/runs/{result['run_id']}",
        MODEL_VERSION_XCOM_KEY: f"{UI_URL}/#/models/churn_classifier/versions/1",
    }
    client = MlflowClient(tracking_uri=target.tracking_uri, registry_uri=target.tracking_uri)
    version = client.get_model_version("churn_classifier", "1")
    assert version.run_id == result["run_id"]
    assert version.tags["airflow.run_id"] == ctx["ti"].run_id and version.tags["airflow.task_id"] == "train"
    # Training registers, it never moves an alias: the gate nominates the challenger (registry.judge_candidate).
    assert client.get_registered_model("churn_classifier").aliases == {}

    evaluation = EvaluateModelOperator(task_id="evaluate", pipeline=str(spec_file), window=window, model=result,
                                       lake_root=str(lake.root)).execute(ctx)  # type: ignore[arg-type]
    assert evaluation["candidate_version"] in ("1", 1)
    assert 0.5 < evaluation["candidate"]["roc_auc"] <= 1.0
