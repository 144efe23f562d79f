"""Every DAG file imports cleanly, follows the house rules, and stays cheap to parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml_lifecycle.settings import project_root

DAGS_DIR = project_root() / "dags"
PLUGINS_DIR = project_root() / "plugins"
HEAVY = ["pandas", "sklearn", "mlflow", "great_expectations", "evidently"]
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"churn_daily", "churn_training"} <= set(dagbag.dag_ids)


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


def test_daily_dag_chain_and_assets(dagbag):
    daily = dagbag.dags["churn_daily"]
    order = ["ingest", "validate", "predict", "drift_check", "retraining_policy"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in daily.get_task(upstream).downstream_task_ids
    outlets = [a.name for a in daily.get_task("retraining_policy").outlets]
    assert outlets == ["churn.retraining_request"]
    assert daily.max_active_runs == 1  # the retraining policy reads earlier days' verdicts in order


def test_training_dag_is_scheduled_on_the_retraining_request(dagbag):
    training = dagbag.dags["churn_training"]
    assert [asset.name for asset in training.timetable.asset_condition.objects] == ["churn.retraining_request"]
    assert "as_of" in training.params
    order = ["assemble_window", "train", "evaluate", "promote"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in training.get_task(upstream).downstream_task_ids


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
