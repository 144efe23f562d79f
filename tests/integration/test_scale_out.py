"""The DAGs, unchanged, on the scale-out deployment: PostgreSQL, CeleryExecutor over Redis, an MLflow server.

One stack for the module (``stack.py``); the tests run in file order and build on each other the way a
deployment's days do: a 7-day backfill through ``airflow backfill create``, a scheduled run waiting for
its landing drop, a manual training run, then the faults. Days are dated from today, so the scheduled
run is the one Airflow itself creates on unpause.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.stack import ScaleOutStack, postgres_reachable, redis_reachable
from ml_lifecycle.lake import Lake
from ml_lifecycle.spec import PipelineSpec, load_spec
from ml_lifecycle.tracking import TrackingTarget

pytestmark = pytest.mark.integration

DAILY, TRAINING = "churn_daily", "churn_training"
TODAY = datetime.now(UTC).date()
DAYS = 15  # T-14 .. T, drift injected on the last day
FIRST = TODAY - timedelta(days=DAYS - 1)
BACKFILL = [FIRST + timedelta(days=i) for i in range(7)]  # T-14 .. T-8
KILL_DAY = TODAY - timedelta(days=7)
PG_RESTART_DAY = TODAY - timedelta(days=6)


def _require_services() -> None:
    missing = [name for name, up in (("PostgreSQL at 127.0.0.1:5432", postgres_reachable()),
                                     ("Redis at 127.0.0.1:6379", redis_reachable())) if not up]
    if missing:
        message = f"the integration tests need {' and '.join(missing)} (see README, 'Tests')"
        if os.environ.get("ML_LIFECYCLE_SKIP_INTEGRATION") == "1":
            pytest.skip(message)
        pytest.fail(message)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    _require_services()
    started = time.monotonic()
    stack = ScaleOutStack(tmp_path_factory.mktemp("scale-out"))
    try:
        stack.create()
        stack.start()
        print(f"\nscale-out stack up in {time.monotonic() - started:.1f} s ({stack.tag})")
        yield stack
    finally:
        stack.destroy()
        print(f"\nintegration module wall time {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def spec() -> PipelineSpec:
    return load_spec("churn")


@pytest.fixture(scope="module")
def landing(stack: ScaleOutStack, spec: PipelineSpec) -> dict[str, Path]:
    """Simulate 15 days; every drop after the backfill's last day is held back until a test releases it."""
    from ml_lifecycle_dev.simulate import simulate

    lake = Lake(stack.lake)
    days = simulate(spec, lake, start=FIRST, days=DAYS, label_delay_days=3, drift_start_day=DAYS, seed=7)
    held = stack.home / "held-landing"
    held.mkdir()
    for day in days[len(BACKFILL):]:
        shutil.move(str(lake.landing_dir("churn", day.ds)), held / day.ds)
    return {day.ds: held / day.ds for day in days[len(BACKFILL):]}


def _release(stack: ScaleOutStack, landing: dict[str, Path], day: date) -> None:
    shutil.move(str(landing[day.isoformat()]), Lake(stack.lake).landing_dir("churn", day))


def _client(stack: ScaleOutStack) -> Any:
    return TrackingTarget(tracking_uri=stack.mlflow_url).activate()


def _champion(stack: ScaleOutStack, spec: PipelineSpec) -> str:
    return str(_client(stack).get_model_version_by_alias(spec.model.registered_name, "champion").version)


def _aliases_in_backend(stack: ScaleOutStack) -> dict[str, int]:
    """The registry's aliases read from MLflow's own PostgreSQL store: works while the server is down."""
    import psycopg2

    conn = psycopg2.connect(dbname=stack.mlflow_db, host="127.0.0.1", port=5432, user="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("select alias, version from registered_model_aliases")
            return {alias: int(version) for alias, version in cur.fetchall()}
    finally:
        conn.close()


def _scheduled_run(stack: ScaleOutStack) -> str:
    runs = [r for r in stack.dag_runs(DAILY) if r["run_type"] == "scheduled"]
    assert [r["ds"] for r in runs] == [TODAY.isoformat()], runs
    return str(runs[0]["run_id"])


def _wait_task(stack: ScaleOutStack, dag_id: str, run_id: str, task: str, states: tuple[str, ...],
               timeout: float = 300) -> str:
    def reached() -> str | None:
        state = stack.task_states(dag_id, run_id).get(task)
        return state if state in states else None

    return stack.wait(reached, f"{dag_id}/{run_id}/{task} in {states}", timeout=timeout, interval=0.3)


def test_seven_day_backfill_runs_on_celery_while_the_scheduled_run_waits_for_its_drop(stack, spec, landing):
    stack.airflow("backfill", "create", "--dag-id", DAILY, "--from-date", BACKFILL[0].isoformat(),
                  "--to-date", BACKFILL[-1].isoformat(), "--max-active-runs", "1")
    stack.airflow("dags", "unpause", DAILY)
    stack.airflow("dags", "unpause", TRAINING)
    for day in BACKFILL:
        run_id = f"backfill__{day.isoformat()}T00:00:00+00:00"
        assert stack.wait_for_run(DAILY, run_id, timeout=300) == "success", stack.task_states(DAILY, run_id)

    backfilled = [r for r in stack.dag_runs(DAILY) if r["run_type"] == "backfill"]
    assert [r["ds"] for r in backfilled] == [d.isoformat() for d in BACKFILL]
    assert len({r["backfill_id"] for r in backfilled}) == 1
    lake = Lake(stack.lake)
    assert lake.partitions("validated", "churn") == [d.isoformat() for d in BACKFILL]
    assert lake.partitions("predictions", "churn") == []  # no champion yet: scoring skipped itself

    # Unpausing made the scheduler create today's run (no catchup); its drop has not landed, so it waits
    # in reschedule mode, holding no worker slot, while the backfill used the worker.
    scheduled = _scheduled_run(stack)
    # Between pokes (3 s apart here) the sensor is up_for_reschedule, then briefly scheduled/queued/running;
    # its reschedule records show it gave its slot back rather than holding it.
    assert stack.task_states(DAILY, scheduled)["wait_for_landing"] in (
        "up_for_reschedule", "scheduled", "queued", "running")
    reschedules = stack.sql("select count(*) from task_reschedule r join task_instance t on r.ti_id = t.id "
                            "where t.dag_id = %s and t.run_id = %s and t.task_id = 'wait_for_landing'",
                            (DAILY, scheduled))[0][0]
    assert reschedules >= 1
    hosts = stack.sql("select distinct hostname, queue from task_instance where dag_id = %s and state = 'success'",
                      (DAILY,))
    assert {queue for _, queue in hosts} == {stack.queue}  # every task went through the Celery queue


def test_manual_training_run_promotes_the_first_model_through_the_mlflow_server(stack, spec, landing):
    run_id = stack.trigger(TRAINING, conf={"as_of": BACKFILL[-1].isoformat()})
    assert stack.wait_for_run(TRAINING, run_id, timeout=420) == "success", stack.task_states(TRAINING, run_id)
    assert _champion(stack, spec) == "1"
    version = _client(stack).get_model_version(spec.model.registered_name, "1")
    assert version.tags["gate.decision"] == "PROMOTE"
    assert version.tags["airflow.run_id"] == run_id
    assert version.tags["training_as_of"] == BACKFILL[-1].isoformat()
    # the model's artifacts went through the server (--serve-artifacts), not a path the worker knows
    assert list((stack.home / "mlflow-artifacts").rglob("MLmodel"))


def test_scheduled_run_scores_its_day_once_the_drop_lands_and_sees_the_drift(stack, spec, landing):
    _release(stack, landing, TODAY)
    run_id = _scheduled_run(stack)
    assert stack.wait_for_run(DAILY, run_id, timeout=420) == "success", stack.task_states(DAILY, run_id)
    lake = Lake(stack.lake)
    ds = TODAY.isoformat()
    assert ds in lake.partitions("predictions", "churn")
    import pandas as pd

    validated = pd.read_parquet(lake.partition_dir("validated", "churn", ds) / "data.parquet")
    predictions = pd.read_parquet(lake.partition_dir("predictions", "churn", ds) / "predictions.parquet")
    assert len(predictions) == len(validated) > 0
    assert set(predictions[spec.id_column]) == set(validated[spec.id_column])
    assert predictions["model_version"].unique().tolist() == ["1"]
    drift = json.loads((lake.report_dir("churn", "drift", ds) / "drift_metrics.json").read_text())
    assert drift["dataset_drift"] is True  # drift is injected on this day


def _lake_snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "/." not in f"/{p.relative_to(root)}"}


def _registry_snapshot(stack: ScaleOutStack, spec: PipelineSpec) -> dict[str, Any]:
    client = _client(stack)
    name = spec.model.registered_name
    versions = {str(v.version): dict(sorted(v.tags.items())) for v in client.search_model_versions(f"name='{name}'")}
    runs = {e.name: len(client.search_runs([e.experiment_id], max_results=1000))
            for e in client.search_experiments()}
    return {"aliases": dict(client.get_registered_model(name).aliases), "versions": versions, "runs": runs}


def test_rerunning_a_whole_day_leaves_lake_registry_and_predictions_as_after_one_run(stack, spec, landing):
    run_id = _scheduled_run(stack)
    lake_before, registry_before = _lake_snapshot(stack.lake), _registry_snapshot(stack, spec)
    stack.airflow("tasks", "clear", DAILY, "--start-date", TODAY.isoformat(), "--end-date", TODAY.isoformat(),
                  "--yes")
    tries = stack.wait(lambda: (stack.sql("select min(try_number) from task_instance where dag_id = %s and "
                                          "run_id = %s", (DAILY, run_id))[0][0] or 0) >= 2,
                       "the cleared run to start again", timeout=120)
    assert tries
    assert stack.wait_for_run(DAILY, run_id, timeout=420) == "success", stack.task_states(DAILY, run_id)
    assert _lake_snapshot(stack.lake) == lake_before
    assert _registry_snapshot(stack, spec) == registry_before


def test_mlflow_server_down_during_promotion_fails_the_try_keeps_the_alias_and_the_retry_promotes(
        stack, spec, landing):
    run_id = stack.trigger(TRAINING, conf={"as_of": BACKFILL[-1].isoformat(),
                                           "force_reason": "fault test: the registry goes down during promotion"})
    _wait_task(stack, TRAINING, run_id, "gate", ("success",), timeout=420)
    stack.expect_down = True
    stack.services["mlflow"].kill()
    try:
        _wait_task(stack, TRAINING, run_id, "publish", ("up_for_retry", "failed"), timeout=180)
        assert _aliases_in_backend(stack) == {"champion": 1, "challenger": 2}  # nothing moved
        stack.restart("mlflow")
    finally:
        stack.expect_down = False
    assert stack.wait_for_run(TRAINING, run_id, timeout=300) == "success", stack.task_states(TRAINING, run_id)
    assert stack.task_tries(TRAINING, run_id, "publish") == ["failed", "success"]
    assert _champion(stack, spec) == "2"
    assert _client(stack).get_model_version(spec.model.registered_name, "2").tags["gate.decision"] == "PROMOTE"


def test_worker_killed_mid_scoring_publishes_nothing_partial_and_the_retry_writes_identical_output(
        stack, spec, landing):
    import pyarrow.parquet as pq

    from ml_lifecycle.inference import score_partition

    _release(stack, landing, KILL_DAY)
    ds = KILL_DAY.isoformat()
    run_id = stack.trigger(DAILY, logical_date=f"{ds}T00:00:00+00:00", run_id=f"manual__{ds}_kill")
    _wait_task(stack, DAILY, run_id, "score_shard[0]", ("running",), timeout=300)
    stack.expect_down = True
    stack.services["worker"].kill()
    try:
        lake = Lake(stack.lake)
        assert ds not in lake.partitions("predictions", "churn")
        visible = lake.zone_dir("predictions", "churn") / f"ds={ds}"
        assert not visible.exists()  # no partial partition, not even an incomplete folder
        # Airflow notices the lost task when its heartbeats stop, and fails the try.
        _wait_task(stack, DAILY, run_id, "score_shard[0]", ("up_for_retry", "failed"), timeout=180)
        stack.restart("worker")
    finally:
        stack.expect_down = False
    assert stack.wait_for_run(DAILY, run_id, timeout=420) == "success", stack.task_states(DAILY, run_id)
    assert stack.task_tries(DAILY, run_id, "score_shard", map_index=0) == ["failed", "success"]

    # The same partition scored in this process with the same model and plan time gives the same table.
    published = Lake(stack.lake).partition_metadata("predictions", "churn", ds)
    reference = Lake(stack.home / "reference-lake")
    shutil.copytree(Lake(stack.lake).partition_dir("validated", "churn", ds),
                    reference.partition_dir("validated", "churn", ds))
    score_partition(spec, reference, ds, TrackingTarget(tracking_uri=stack.mlflow_url),
                    model_version=published["model_version"],
                    scored_at=datetime.fromisoformat(published["scored_at"]))
    ours = pq.read_table(Lake(stack.lake).partition_dir("predictions", "churn", ds) / "predictions.parquet")
    theirs = pq.read_table(reference.partition_dir("predictions", "churn", ds) / "predictions.parquet")
    assert ours.equals(theirs)


def test_postgres_restarted_during_a_run_and_the_run_completes(stack, spec, landing):
    _release(stack, landing, PG_RESTART_DAY)
    ds = PG_RESTART_DAY.isoformat()
    run_id = stack.trigger(DAILY, logical_date=f"{ds}T00:00:00+00:00", run_id=f"manual__{ds}_pg")
    _wait_task(stack, DAILY, run_id, "validate", ("running",), timeout=300)
    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True,
                   capture_output=True, timeout=120)
    print(f"\nPostgreSQL restarted in {time.monotonic() - started:.1f} s")
    assert stack.wait_for_run(DAILY, run_id, timeout=600) == "success", stack.task_states(DAILY, run_id)
    assert ds in Lake(stack.lake).partitions("predictions", "churn")
    for name, service in stack.services.items():
        assert service.alive, f"{name} exited after the PostgreSQL restart:\n{service.tail()}"
    print(f"\ntries after the restart: { {t: stack.task_tries(DAILY, run_id, t) for t in ('validate', 'ingest')} }")


def test_every_service_is_still_up_after_the_faults(stack):
    down = [name for name, service in stack.services.items() if not service.alive]
    assert not down, stack.diagnostics()
