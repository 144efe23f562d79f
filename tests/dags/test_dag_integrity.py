"""Every DAG file imports cleanly, follows the house rules, and stays cheap to parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml_lifecycle.settings import project_root
from ml_lifecycle.workflows import DAILY_MAX_ACTIVE_RUNS

DAGS_DIR = project_root() / "dags"
PLUGINS_DIR = project_root() / "plugins"
HEAVY = ["pandas", "sklearn", "mlflow", "great_expectations", "evidently"]
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
PIPELINES = ["churn", "credit"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    expected = {f"{p}_{kind}" for p in PIPELINES for kind in ("daily", "training", "rollback")}
    assert expected <= set(dagbag.dag_ids)


def test_dag_files_define_one_dag_named_after_the_file(dagbag):
    by_file = {}
    for dag in dagbag.dags.values():
        by_file.setdefault(Path(dag.fileloc).stem, []).append(dag.dag_id)
    assert by_file == {f.stem: [f.stem] for f in DAG_FILES}


def test_house_rules(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md and dag.doc_md.strip(), f"{dag.dag_id} has no doc_md"
        assert dag.start_date is not None and dag.start_date.tzinfo is not None, dag.dag_id
        assert dag.owner not in ("", "airflow"), f"{dag.dag_id} has the default owner"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            assert task.owner == dag.owner


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_daily_dag_chain_and_assets(dagbag, pipeline):
    daily = dagbag.dags[f"{pipeline}_daily"]
    order = ["ingest", "validate", "plan_scoring", "score_shard", "publish_predictions", "shadow_score",
             "drift_check", "realized_performance", "retraining_policy"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in daily.get_task(upstream).downstream_task_ids
    assert daily.get_task("score_shard").is_mapped  # one task instance per shard of the plan
    assert "model_version" in daily.params and daily.params["model_version"] is None
    outlets = [a.name for a in daily.get_task("retraining_policy").outlets]
    assert outlets == [f"{pipeline}.retraining_request"]
    # Days run in date order through wait_for_landing's guard, not a single run slot: a run parked
    # waiting for a late drop must not queue a manual run of another day behind it.
    assert daily.max_active_runs == DAILY_MAX_ACTIVE_RUNS > 1
    assert daily.get_task("wait_for_landing").in_date_order is True
    assert daily.get_task("wait_for_landing").mode == "reschedule"


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_training_dag_is_scheduled_on_the_retraining_request(dagbag, pipeline):
    training = dagbag.dags[f"{pipeline}_training"]
    assert [asset.name for asset in training.timetable.asset_condition.objects] == [f"{pipeline}.retraining_request"]
    assert {"as_of", "force_reason"} <= set(training.params)
    assert training.params.get_param("force_reason").schema["minLength"] == 10
    order = ["assemble_window", "train", "evaluate", "gate", "approve", "publish"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in training.get_task(upstream).downstream_task_ids
    # publish runs when approve skipped itself (no approval required) but not after a Reject or a timeout
    assert training.get_task("publish").trigger_rule == "none_failed_min_one_success"
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    assert isinstance(training.get_task("approve"), ApprovalOperator)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_rollback_dag_is_manual_with_a_validated_form(dagbag, pipeline):
    rollback = dagbag.dags[f"{pipeline}_rollback"]
    assert type(rollback.timetable).__name__ == "NullTimetable"  # schedule=None: manual only
    assert [t.task_id for t in rollback.tasks] == ["rollback"]
    assert rollback.params.get_param("reason").schema["minLength"] == 10
    assert rollback.params.get_param("version").value is None


def test_failures_alert_through_the_notifier(dagbag):
    from ml_lifecycle.notifiers import MlLifecycleNotifier

    for dag in dagbag.dags.values():
        callbacks = dag.default_args.get("on_failure_callback")
        assert isinstance(callbacks, MlLifecycleNotifier), dag.dag_id


def test_a_new_pipeline_is_two_short_dag_files():
    """Adding credit took a spec, a suite and two DAG files of about 40 lines together (issue 8)."""
    lines = sum(len((DAGS_DIR / f"credit_{kind}.py").read_text().splitlines()) for kind in ("daily", "training"))
    assert lines <= 40


CHECK_IMPORTS = """
import importlib.util, json, sys, time
sys.path[:0] = [{plugins!r}, {dags!r}]
started = time.perf_counter()
for path in {files!r}:
    spec = importlib.util.spec_from_file_location(path.rsplit('/', 1)[-1][:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
import ml_lifecycle_plugin  # the plugin module the plugin manager imports
print(json.dumps({{"heavy": sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})), "seconds": elapsed}}))
"""


def test_importing_dags_and_plugin_pulls_in_no_heavy_library():
    code = CHECK_IMPORTS.format(
        plugins=str(PLUGINS_DIR), dags=str(DAGS_DIR), files=[str(f) for f in DAG_FILES], heavy=HEAVY
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"dags/ or the plugin imported {result['heavy']} at parse time"


def test_plugin_manager_skips_the_package():
    ignored = (PLUGINS_DIR / ".airflowignore").read_text().split()
    assert "ml_lifecycle/" in ignored
