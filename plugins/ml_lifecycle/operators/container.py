"""Train in a container: Airflow's ``DockerOperator`` running ``ml-lifecycle train``.

The container runs the same core call as :class:`~ml_lifecycle.operators.training.TrainModelOperator`
(``training.train_and_register``) through the CLI, which prints the result dict as JSON on the last line
of its stdout; this operator reads that line back, so ``evaluate`` and ``gate`` downstream see the same
XCom whichever way the model was trained.

Where the container runs comes from the pipeline spec's ``training.container`` section, read when the
task runs (never when the DAG file is parsed): image, docker URL or connection, network, mounts, extra
environment, removal. What it talks to comes from the worker: MLflow's location from the
``mlflow_default`` connection (through :class:`~ml_lifecycle.hooks.mlflow.MlflowHook`), the lake root and
the object-store (AWS) variables from the worker's environment; secrets go in the provider's
``private_environment`` (neither templated nor shown in the UI).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.docker.operators.docker import DockerOperator

from ml_lifecycle.operators.base import PipelineOperator
from ml_lifecycle.operators.training import TrainModelOperator, announce_registered

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ml_lifecycle.spec import PipelineSpec, TrainingContainerSpec
    from ml_lifecycle.tracking import TrackingTarget

# The program the image's entrypoint runs (include/docker/entrypoint.sh); the test runs it here too.
CLI = "ml-lifecycle"
# The keys of train_and_register's result (plus core_seconds): what evaluate, gate and publish read.
RESULT_KEYS = frozenset({"model_name", "version", "run_id", "experiment_id", "model_uri", "train_rows"})
# Forwarded from the worker's environment when set there: the object store and MLflow's client settings.
FORWARDED_ENVIRONMENT = (
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION", "MLFLOW_S3_ENDPOINT_URL",
    "MLFLOW_S3_IGNORE_TLS", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    "MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK",
)
FORWARDED_SECRETS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "ML_LIFECYCLE_LAKE_STORAGE_OPTIONS",  # fsspec options of an object-storage lake; may hold keys
    "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN",
)


class ContainerTrainingError(RuntimeError):
    """The container ran but its output cannot be used, or the spec does not say how to run it."""


def container_environment(
    target: TrackingTarget, *, lake_root: str, extra: Mapping[str, str] | None = None,
    worker_env: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """(environment, private_environment) of the training container.

    Everything ``TrackingTarget.from_env`` reads is set explicitly (empty when the connection has no
    value), so the CLI's embedded defaults never point the container at a local MLflow store.
    """
    worker_env = os.environ if worker_env is None else worker_env
    public = dict(extra or {})
    public.update({name: worker_env[name] for name in FORWARDED_ENVIRONMENT if worker_env.get(name)})
    public.update({
        "MLFLOW_TRACKING_URI": target.tracking_uri,
        "ML_LIFECYCLE_MLFLOW_ARTIFACTS": target.artifact_location or "",
        "ML_LIFECYCLE_MLFLOW_UI_URL": target.ui_url or "",
        "ML_LIFECYCLE_LAKE_ROOT": lake_root,
        "PYTHONUNBUFFERED": "1",
    })
    if target.registry_uri:
        public["MLFLOW_REGISTRY_URI"] = target.registry_uri
    private = {name: worker_env[name] for name in FORWARDED_SECRETS if worker_env.get(name)}
    private.update(target.secret_environment())  # the connection's credentials win over the worker's
    return public, private


def train_command(pipeline: str, window: Mapping[str, Any], lineage: Mapping[str, str]) -> list[str]:
    """The container's command: the image's entrypoint runs it as it is."""
    return [
        CLI, "train", "--pipeline", pipeline,
        "--window-json", json.dumps(dict(window), sort_keys=True, default=str),
        "--run-id", str(lineage.get("airflow.run_id", "")),
        "--lineage-json", json.dumps(dict(lineage), sort_keys=True),
    ]


def parse_result(lines: Sequence[str] | str | None) -> dict[str, Any]:
    """The result dict from the container's log: its last line that is a JSON object with the result keys.

    The Docker provider interleaves stderr with stdout, so a warning printed at interpreter exit may
    follow the result line; anything before or after it is ignored.
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    for line in reversed(list(lines or [])):
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and RESULT_KEYS <= set(value):
            return value
    tail = "\n".join(list(lines or [])[-5:])
    raise ContainerTrainingError(
        f"the training container printed no result line (a JSON object with {sorted(RESULT_KEYS)}); "
        f"last lines:\n{tail or '<no output>'}"
    )


class ContainerTrainModelOperator(DockerOperator):
    """``train``, in a container: ``ml-lifecycle train`` from the spec's ``training.container.image``.

    :param pipeline: name of a spec in ``include/pipelines/`` (templated); the image must hold the same spec.
    :param window: the ``assemble_window`` result (templated; usually its XComArg).
    :param lake_root: the lake's root as the container sees it; by default the worker's
        ``ML_LIFECYCLE_LAKE_ROOT`` (an ``s3://`` root needs no mount; a local one must be mounted at
        the same path through ``training.container.mounts``).
    :param mlflow_conn_id: the connection that says where MLflow is.
    :param image: overrides the spec's image (templated), e.g. to pin a digest from the DAG file.

    Other keyword arguments go to ``DockerOperator``; the spec's settings win over them.
    """

    template_fields: Sequence[str] = (*DockerOperator.template_fields, "pipeline", "window", "lake_root")
    template_fields_renderers = {**DockerOperator.template_fields_renderers, "window": "json"}
    operator_extra_links = TrainModelOperator.operator_extra_links
    ui_color = "#b39ddb"

    def __init__(
        self,
        *,
        pipeline: str,
        window: Any,
        lake_root: str | None = None,
        mlflow_conn_id: str = "mlflow_default",
        image: str | None = None,
        **kwargs: Any,
    ) -> None:
        # No host temp dir: training reads the lake and writes to MLflow, and a worker that is itself a
        # container has no host path to bind.
        kwargs.setdefault("mount_tmp_dir", False)
        kwargs["xcom_all"] = True  # every log line comes back; parse_result picks the result line
        super().__init__(image=image or "", **kwargs)
        self.pipeline = pipeline
        self.window = window
        self.lake_root = lake_root
        self.mlflow_conn_id = mlflow_conn_id
        self._dag_mounts = list(self.mounts)
        self._dag_environment = dict(self.environment)

    @cached_property
    def spec(self) -> PipelineSpec:
        from ml_lifecycle.spec import load_spec

        return load_spec(self.pipeline)

    @cached_property
    def tracking(self) -> TrackingTarget:
        from ml_lifecycle.hooks.mlflow import MlflowHook

        return MlflowHook(mlflow_conn_id=self.mlflow_conn_id).get_target()

    @property
    def container_spec(self) -> TrainingContainerSpec:
        from ml_lifecycle.exceptions import SpecError
        from ml_lifecycle.spec import spec_path

        box = self.spec.training.container
        if box is None:
            raise SpecError(
                f"{spec_path(self.spec.name)}: training.container: the DAG trains {self.spec.name!r} in a "
                "container (training_tasks(..., container=True)) but the spec has no training.container "
                "section; add one (image: ...) or drop container=True"
            )
        return box

    def prepare(self, context: Context) -> None:
        """Fill the container's image, command, environment and mounts; nothing talks to Docker yet."""
        from ml_lifecycle.settings import lake_location

        box = self.container_spec
        self.image = self.image or box.image
        self.docker_url = box.docker_url or self.docker_url
        self.docker_conn_id = box.docker_conn_id or self.docker_conn_id
        self.network_mode = box.network_mode or self.network_mode
        self.auto_remove = box.auto_remove
        self.force_pull = box.force_pull or self.force_pull
        self.mem_limit = box.mem_limit or self.mem_limit
        self.cpus = box.cpus
        self.user = box.user or self.user
        self.mounts = [*self._dag_mounts, *(m.model_dump(exclude_none=True) for m in box.mounts)]
        public, private = container_environment(
            # the configured string as it is: a Path would turn s3://bucket into s3:/bucket
            self.tracking, lake_root=str(self.lake_root or lake_location()),
            extra=box.environment,
        )
        self.environment = {**self._dag_environment, **public}
        self._private_environment = {**self._private_environment, **private}
        self.command = train_command(str(self.pipeline), self.window, PipelineOperator.lineage(context))

    def execute(self, context: Context) -> dict[str, Any]:  # type: ignore[override]
        self.prepare(context)
        self.log.info("training %s in a container from %s (network %s, docker %s)", self.pipeline, self.image,
                      self.network_mode or "default", self.docker_conn_id or self.docker_url)
        started = time.perf_counter()
        result = parse_result(super().execute(context))
        self.log.info("container finished in %.1fs", time.perf_counter() - started)
        announce_registered(context, result, self.tracking, self.log)
        return result
