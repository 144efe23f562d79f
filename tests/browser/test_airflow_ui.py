"""The plugin in the Airflow UI, driven in Debian's chromium against a real ``airflow api-server``.

A user logs in, opens DAG runs and tasks and follows their extra links (reports, partition, model card
served by the plugin's app; MLflow run and version URLs), opens the Models view, and meets the trigger
forms' validation. Every expected value is read independently from the registry (MLflow) or the lake,
not from the plugin's own code. Screenshots: ``.local/tests/artifacts/``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, unquote

import pytest
from ui_support import MLFLOW_UI, Browser, Server, UiState, screenshot

pytestmark = pytest.mark.browser

PIPELINE = "churn"
MODEL = "churn_classifier"
DRIFT_DAY = "2026-10-11"  # drift from day 10 of the plan, v1 scores it
BROKEN_DAY = "2026-10-06"  # the quarantined file


# ---- what the registry and the lake say (read without the plugin) ------------------------------------
@pytest.fixture(scope="module")
def registry(ui_state: UiState) -> dict[str, Any]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=ui_state.tracking_uri, registry_uri=ui_state.tracking_uri)
    aliases = {alias: str(version) for alias, version in client.get_registered_model(MODEL).aliases.items()}
    versions = {}
    for mv in client.search_model_versions(f"name='{MODEL}'"):
        run = client.get_run(mv.run_id)
        versions[str(mv.version)] = {"run_id": mv.run_id, "experiment_id": run.info.experiment_id,
                                     "metrics": run.data.metrics, "tags": mv.tags}
    events_experiment = client.get_experiment_by_name(f"{PIPELINE}-registry-events")
    events = client.search_runs([events_experiment.experiment_id], filter_string="tags.registry_event = 'alias_move'",
                                max_results=1000)
    return {"aliases": aliases, "versions": versions, "events": [run.data.tags for run in events]}


def _api(page: Any, server: Server, path: str) -> Any:
    response = page.request.get(f"{server.url}/api/v2/{path}")
    assert response.ok, (path, response.status, response.text())
    return response.json()


def _run_id(page: Any, server: Server, dag_id: str, *, logical_day: str | None = None, index: int | None = None) -> str:
    runs = _api(page, server, f"dags/{dag_id}/dagRuns?order_by=run_after&limit=100&state=success&state=failed")["dag_runs"]
    if logical_day is not None:
        return str(next(r["dag_run_id"] for r in runs if (r["logical_date"] or "").startswith(logical_day)))
    return str(runs[index if index is not None else -1]["dag_run_id"])


def _xcom(page: Any, server: Server, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
    path = f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/{key}?deserialize=true"
    value = _api(page, server, path)["value"]
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


def _open_task(page: Any, server: Server, dag_id: str, run_id: str, task_id: str) -> None:
    """From the DAG run's page, click the task in the run's task list; open its Details (extra links)."""
    page.goto(f"{server.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}")
    page.locator(f'a[href$="/runs/{run_id}/tasks/{task_id}"]').first.click()
    page.wait_for_url(lambda url: unquote(url).endswith(f"/runs/{run_id}/tasks/{task_id}"))
    page.get_by_text("Details", exact=True).first.click()
    page.get_by_text("Extra Links").first.wait_for()
    page.get_by_text(run_id, exact=True).first.wait_for()  # the right task instance


def _extra_link(page: Any, name: str) -> Any:
    link = page.get_by_role("link", name=name, exact=True)
    link.wait_for()
    return link


@pytest.fixture(scope="module")
def page(browser: Browser) -> Any:
    page = browser.context.new_page()
    yield page
    page.close()


# ---- a DAG run, a task, its extra links ----------------------------------------------------------------
def test_open_a_dag_run_from_the_runs_list(page: Any, server: Server) -> None:
    run_id = _run_id(page, server, f"{PIPELINE}_daily", logical_day=DRIFT_DAY)
    page.goto(f"{server.url}/dags/{PIPELINE}_daily/runs")
    page.get_by_role("link", name=run_id, exact=True).first.click()
    page.wait_for_url(lambda url: f"/dags/{PIPELINE}_daily/runs/" in url and run_id in unquote(url))
    page.get_by_text("Task Instances").first.wait_for()
    for task in ("validate", "publish_predictions", "drift_check", "realized_performance"):
        assert page.locator(f'a[href*="/runs/"][href$="/tasks/{task}"]').count() >= 1, task
    screenshot(page, "02_dag_run")


def test_drift_check_links_to_its_evidently_report(page: Any, server: Server, ui_state: UiState) -> None:
    run_id = _run_id(page, server, f"{PIPELINE}_daily", logical_day=DRIFT_DAY)
    _open_task(page, server, f"{PIPELINE}_daily", run_id, "drift_check")
    link = _extra_link(page, "Report")
    expected = f"/ml-lifecycle/files/{PIPELINE}/drift/ds={DRIFT_DAY}/drift_report.html"
    assert link.get_attribute("href") == expected
    assert (ui_state.lake_root / "reports" / PIPELINE / "drift" / f"ds={DRIFT_DAY}" / "drift_report.html").is_file()
    screenshot(page, "03_task_drift_check_extra_links")
    with page.expect_response(lambda r: r.url.endswith(expected)) as response_info:
        link.click()
    response = response_info.value
    assert response.status == 200
    assert "sandbox" in response.headers["content-security-policy"]  # generated HTML runs in an opaque origin
    assert page.url == f"{server.url}{expected}"
    page.wait_for_load_state("load")  # ~4 MB: Evidently's script and data are inline
    # Evidently's own script draws the report into its root element, inside the sandbox
    page.wait_for_function("document.querySelector('[id^=root_metric]')?.childElementCount > 0")
    page.get_by_text("Dataset Drift", exact=False).first.wait_for()
    screenshot(page, "04_drift_report")


def test_quarantined_day_links_to_the_failed_validation_report(page: Any, server: Server) -> None:
    run_id = _run_id(page, server, f"{PIPELINE}_daily", logical_day=BROKEN_DAY)
    _open_task(page, server, f"{PIPELINE}_daily", run_id, "validate")
    link = _extra_link(page, "Report")
    expected = f"/ml-lifecycle/files/{PIPELINE}/validation/ds={BROKEN_DAY}/validation.html"
    assert link.get_attribute("href") == expected
    link.click()
    page.wait_for_url(f"{server.url}{expected}")
    text = page.locator("body").inner_text()
    for expectation in ("expect_column_values_to_be_unique", "expect_column_values_to_be_between"):
        assert expectation in text
    screenshot(page, "05_validation_report_quarantined_day")


def test_publish_predictions_links_to_the_partition_it_wrote(page: Any, server: Server, ui_state: UiState) -> None:
    import pyarrow.parquet as pq

    run_id = _run_id(page, server, f"{PIPELINE}_daily", logical_day=DRIFT_DAY)
    _open_task(page, server, f"{PIPELINE}_daily", run_id, "publish_predictions")
    link = _extra_link(page, "Partition")
    assert link.get_attribute("href") == f"/ml-lifecycle/partitions/predictions/{PIPELINE}/{DRIFT_DAY}"
    link.click()
    page.wait_for_url(f"**/ml-lifecycle/partitions/predictions/{PIPELINE}/{DRIFT_DAY}")
    written = ui_state.lake_root / "predictions" / PIPELINE / f"ds={DRIFT_DAY}" / "predictions.parquet"
    rows = pq.ParquetFile(written).metadata.num_rows
    published = _xcom(page, server, f"{PIPELINE}_daily", run_id, "publish_predictions")
    assert page.locator("#row-count").inner_text().replace(",", "") == str(rows) == str(published["rows"])
    assert page.locator("#partition").get_attribute("data-ds") == DRIFT_DAY
    assert f"model_version{published['model_version']}" in page.locator("#metadata").inner_text().replace("\t", "")
    assert page.locator("#sample tr").count() == 21  # header + the first 20 rows
    screenshot(page, "06_predictions_partition")


def test_training_tasks_link_to_their_mlflow_run_version_model_card_and_verdict(
        page: Any, server: Server, registry: dict[str, Any]) -> None:
    run_id = _run_id(page, server, f"{PIPELINE}_training", index=-1)  # the retraining that made v2
    version = str(_xcom(page, server, f"{PIPELINE}_training", run_id, "train")["version"])
    info = registry["versions"][version]
    _open_task(page, server, f"{PIPELINE}_training", run_id, "train")
    run_link, version_link = _extra_link(page, "MLflow run"), _extra_link(page, "Model version")
    assert run_link.get_attribute("href") == f"{MLFLOW_UI}/#/experiments/{info['experiment_id']}/runs/{info['run_id']}"
    assert version_link.get_attribute("href") == f"{MLFLOW_UI}/#/models/{MODEL}/versions/{version}"
    screenshot(page, "07_task_train_extra_links")
    with page.context.expect_page() as new_tab:  # another origin: the UI opens it in a new tab
        version_link.click()
    landed = new_tab.value
    landed.wait_for_load_state()
    assert landed.url == f"{MLFLOW_UI}/#/models/{MODEL}/versions/{version}"
    landed.close()

    _open_task(page, server, f"{PIPELINE}_training", run_id, "gate")
    assert _extra_link(page, "Model version").get_attribute("href") == f"{MLFLOW_UI}/#/models/{MODEL}/versions/{version}"
    verdict = page.request.get(server.url + _extra_link(page, "Report").get_attribute("href")).json()
    assert verdict["decision"] == info["tags"]["gate.decision"] and str(verdict["candidate_version"]) == version
    card = _extra_link(page, "Model card")
    assert card.get_attribute("href") == f"/ml-lifecycle/files/{PIPELINE}/model_cards/v{version}.html"
    card.click()
    page.wait_for_url(f"**/model_cards/v{version}.html")
    assert f"{MODEL} v{version}: model card" in page.locator("h1").first.inner_text()
    screenshot(page, "08_model_card")

    _open_task(page, server, f"{PIPELINE}_training", run_id, "publish")
    assert _extra_link(page, "Model version").get_attribute("href") == f"{MLFLOW_UI}/#/models/{MODEL}/versions/{version}"


def test_rollback_task_links_to_the_version_it_made_champion(page: Any, server: Server,
                                                              registry: dict[str, Any]) -> None:
    # DAG.test (the demo) keeps one run without a logical date per DAG: the re-promotion after the rollback
    run_id = _run_id(page, server, f"{PIPELINE}_rollback", index=-1)
    moved = _xcom(page, server, f"{PIPELINE}_rollback", run_id, "rollback")
    assert str(moved["champion_version"]) == registry["aliases"]["champion"]
    _open_task(page, server, f"{PIPELINE}_rollback", run_id, "rollback")
    assert (_extra_link(page, "Model version").get_attribute("href")
            == f"{MLFLOW_UI}/#/models/{MODEL}/versions/{moved['champion_version']}")


# ---- the Models view --------------------------------------------------------------------------------
def test_models_view_shows_champion_metrics_history_and_plots(
        page: Any, server: Server, registry: dict[str, Any], ui_state: UiState) -> None:
    page.goto(f"{server.url}/dags")
    page.get_by_role("link", name="Models").first.click()  # the plugin's entry in the UI's navigation
    page.wait_for_url("**/plugin/models**")
    frame = page.frame_locator("iframe").first
    frame.locator("#champion").wait_for()

    champion = registry["aliases"]["champion"]
    metrics = registry["versions"][champion]["metrics"]
    card = frame.locator("#champion")
    assert card.get_attribute("data-version") == champion
    assert card.locator(".version").inner_text() == f"v{champion}"
    for metric in ("roc_auc", "pr_auc", "f1", "log_loss", "brier"):
        shown = card.locator(f'td[data-metric="{metric}"]').inner_text()
        assert shown == f"{metrics[f'holdout_{metric}']:.4f}", metric
    assert "PROMOTE" in card.inner_text()
    challenger = registry["aliases"].get("challenger")
    assert (frame.locator("#challenger").get_attribute("data-version") == challenger if challenger
            else "no challenger" in frame.locator("#challenger").inner_text())

    # the alias history: one row per recorded move, the gate's verdict on promotions, who did it
    rows = frame.locator("#alias-history tr.history-row")
    assert rows.count() == len(registry["events"])
    promotions = frame.locator('#alias-history tr.history-row[data-alias="champion"][data-action="promote"]')
    assert promotions.count() == sum(1 for e in registry["events"]
                                     if e["event.alias"] == "champion" and e["event.action"] == "promote")
    for index in range(promotions.count()):
        assert "PROMOTE" in promotions.nth(index).inner_text()
        assert "airflow:churn_training/" in promotions.nth(index).inner_text()
    for action in ("rollback", "repromote"):
        assert frame.locator(f'#alias-history tr.history-row[data-action="{action}"]').count() == 1

    # the plots: one bar per drift report (red when the day drifted), realized performance points
    drift_days = sorted(p.name[3:] for p in (ui_state.lake_root / "reports" / PIPELINE / "drift").glob("ds=*"))
    drifted = [d for d in drift_days if json.loads((ui_state.lake_root / "reports" / PIPELINE / "drift" / f"ds={d}"
                                                    / "drift_metrics.json").read_text())["dataset_drift"]]
    bars = frame.locator("svg#drift-plot rect.bar")
    assert bars.count() == len(drift_days)
    assert frame.locator('svg#drift-plot rect.bar[data-flagged="true"]').count() == len(drifted) > 0
    assert frame.locator("svg#performance-plot circle.point").count() > 0
    assert frame.locator("svg#performance-plot polyline.series").count() >= 1

    # links to reports and model cards, served through the app with the user's session
    assert frame.locator("#reports tr.report-row").count() > 0
    assert frame.locator(f'#reports a[href$="/drift/ds={DRIFT_DAY}/drift_report.html"]').count() == 1
    page.wait_for_timeout(500)
    screenshot(page, "09_models_view")
    card.get_by_role("link", name="model card").click()  # opens in the UI's (sandboxed) iframe
    frame.locator("h1").get_by_text(f"{MODEL} v{champion}: model card").wait_for()

    # the whole page, outside the iframe
    page.goto(f"{server.url}/ml-lifecycle/models/{PIPELINE}")
    page.locator("#champion").wait_for()
    screenshot(page, "10_models_view_full_page", full_page=True)


# ---- trigger forms: Params with JSON schema; invalid input refused with a message ----------------------
def _trigger_dialog(page: Any, server: Server, dag_id: str) -> Any:
    page.goto(f"{server.url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Run Parameters").first.wait_for()
    return dialog


def _run_count(page: Any, server: Server, dag_id: str) -> int:
    return int(_api(page, server, f"dags/{dag_id}/dagRuns?limit=1")["total_entries"])


def test_rollback_form_refuses_invalid_input_with_a_message(page: Any, server: Server) -> None:
    dag_id = f"{PIPELINE}_rollback"
    before = _run_count(page, server, dag_id)
    dialog = _trigger_dialog(page, server, dag_id)
    assert "Why the champion moves (at least 10 characters)" in dialog.inner_text()
    assert not dialog.get_by_role("button", name="Trigger").is_enabled()  # the reason is required
    dialog.locator("#element_reason").fill("restoring v1 after review")
    dialog.locator("#element_version").fill("v1")
    dialog.get_by_role("button", name="Trigger").click()
    dialog.get_by_text("Invalid input for param version").wait_for()
    assert "does not match" in dialog.inner_text()
    screenshot(page, "11_trigger_form_refused")

    dialog.locator("#element_version").fill("1")
    dialog.locator("#element_reason").fill("too short")
    dialog.get_by_role("button", name="Trigger").click()
    dialog.get_by_text("Invalid input for param reason").wait_for()
    assert "too short" in dialog.inner_text()
    assert _run_count(page, server, dag_id) == before  # nothing was triggered


def test_training_form_has_a_date_picker_and_refuses_a_short_force_reason(page: Any, server: Server) -> None:
    dag_id = f"{PIPELINE}_training"
    before = _run_count(page, server, dag_id)
    dialog = _trigger_dialog(page, server, dag_id)
    assert "Train as of" in dialog.inner_text() and "Force promotion (reason)" in dialog.inner_text()
    as_of = dialog.locator("#element_as_of")
    assert as_of.get_attribute("type") == "date"  # format: date gives a date picker
    as_of.fill("2026-10-12")
    dialog.locator("#element_force_reason").fill("because")
    dialog.get_by_role("button", name="Trigger").click()
    dialog.get_by_text("Invalid input for param force_reason").wait_for()
    assert "is too short" in dialog.inner_text()
    assert _run_count(page, server, dag_id) == before


def test_scoring_backfill_form_takes_the_model_version_and_refuses_a_bad_one(page: Any, server: Server) -> None:
    dag_id = f"{PIPELINE}_daily"
    dialog = _trigger_dialog(page, server, dag_id)
    dialog.get_by_text("Backfill", exact=True).click()
    dialog.get_by_role("button", name="Run Backfill").wait_for()
    assert "Score with this registered version" in dialog.inner_text()
    dialog.locator("#element_model_version").fill("2")
    screenshot(page, "12_backfill_form")
    # The form posts to /api/v2/backfills; the same request from this browser session, with the Param:
    body = {"dag_id": dag_id, "from_date": "2026-10-07T00:00:00Z", "to_date": "2026-10-08T00:00:00Z",
            "reprocess_behavior": "completed", "max_active_runs": 1}
    dry = page.request.post(f"{server.url}/api/v2/backfills/dry_run", data={**body, "dag_run_conf": {"model_version": "2"}})
    assert dry.ok, dry.text()
    assert len(dry.json()["backfills"]) == 2
    for bad, message in (("v2", "does not match"), ("0", "does not match")):
        refused = page.request.post(f"{server.url}/api/v2/backfills",
                                    data={**body, "dag_run_conf": {"model_version": bad}})
        assert refused.status in (400, 422), (bad, refused.status, refused.text())
        assert "model_version" in refused.text() and message in refused.text()
    assert _api(page, server, f"backfills?dag_id={dag_id}")["total_entries"] == 0  # nothing was created


# ---- no unauthenticated file server ------------------------------------------------------------------
def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_reports_and_pages_refuse_requests_without_a_valid_token(
        browser: Browser, server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    report = f"{server.url}/ml-lifecycle/files/{PIPELINE}/drift/ds={DRIFT_DAY}/drift_report.html"
    urls = [report, f"{server.url}/ml-lifecycle/models/{PIPELINE}", f"{server.url}/ml-lifecycle/api/models/{PIPELINE}",
            f"{server.url}/ml-lifecycle/partitions/predictions/{PIPELINE}/{DRIFT_DAY}",
            f"{server.url}/ml-lifecycle/files/{PIPELINE}/model_cards/v1.html"]
    for url in urls:
        assert _status(url) == 401, url
        assert _status(url, {"Authorization": "Bearer not-a-jwt"}) == 403, url
        assert _status(url, {"Cookie": "_token=not-a-jwt"}) in (401, 403), url
    token = server.token("admin")
    assert _status(report, {"Authorization": f"Bearer {token}"}) == 200
    assert _status(f"{server.url}/ml-lifecycle/files/{PIPELINE}/../../../airflow/airflow.db",
                   {"Authorization": f"Bearer {token}"}) == 404
    assert _status(f"{server.url}/ml-lifecycle/files/{PIPELINE}/%2e%2e/%2e%2e/airflow/airflow.db",
                   {"Authorization": f"Bearer {token}"}) == 404

    anonymous = browser.fresh_context(tmp_path_factory.mktemp("chromium-anonymous"))
    try:
        tab = anonymous.new_page()
        response = tab.goto(report)
        assert response is not None and response.status == 401
        assert "Not authenticated" in tab.locator("body").inner_text()
        screenshot(tab, "13_report_without_login_refused")
    finally:
        anonymous.close()
