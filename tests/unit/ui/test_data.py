"""The plugin's UI on an object-storage lake: the API server's process reads a lake its cache never saw.

Moto's real S3 server (the ``s3``/``bucket`` fixtures of conftest.py) holds a lake made by the real core
(simulate, ingest and validate a few days, train a model, check drift, a gate report and a model card).
Then, with a fresh lake cache, as the API server on another machine has: the Models view lists the
reports, links are logical lake paths (no ``_gen=``), the app's routes serve the reports' content and a
partition's page, and a worker's cache path links to the same URL as the same file of a local lake.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ml_lifecycle.lake import GENERATION_PREFIX, Lake

START = date(2024, 6, 1)
DAYS = 4
DAY_LIST = [(START + timedelta(days=i)).isoformat() for i in range(DAYS)]
DRIFT_DS = DAY_LIST[-1]


def _client(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The plugin's FastAPI app, as a logged-in admin (the JWT check is Airflow's, replaced here)."""
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from ml_lifecycle.ui.app import create_app

    create_auth_manager()  # readable_pipelines asks the real auth manager whether the user may read the DAGs
    app = create_app()
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="admin", role="ADMIN")
    return TestClient(app)


def test_links_models_view_and_routes_read_a_remote_lake_through_a_fresh_cache(
    s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_lifecycle.monitoring import check_partition_drift
    from ml_lifecycle.registry import card_paths
    from ml_lifecycle.spec import load_spec
    from ml_lifecycle.training import assemble_window, train_and_register
    from ml_lifecycle.ui import data, links
    from ml_lifecycle.ui.app import _partition_info, _report_file
    from support import local_tracking, validated_lake

    started = time.perf_counter()
    spec = load_spec("churn")
    uri = f"s3://{bucket}/lake"
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_ROOT", uri)

    # ---- a worker fills the lake (its cache: the s3 fixture's) -------------------------------------
    worker, _ = validated_lake(spec, uri, start=START, days=DAYS, label_delay_days=1, seed=5)
    target = local_tracking(tmp_path / "mlflow")
    trained = train_and_register(spec, assemble_window(spec, worker, DRIFT_DS), target, {})
    target.activate().set_registered_model_alias(spec.model.registered_name, "champion", trained["version"])
    drift = check_partition_drift(spec, worker, DRIFT_DS, target)
    worker.write_json(worker.report_dir(spec.name, "gate", DRIFT_DS) / f"v{trained['version']}.json",
                      {"decision": "PROMOTE"})
    _, card = card_paths(spec, worker, str(trained["version"]))
    worker.write_text(card, "<html><body>card of v1</body></html>")
    worker_drift_html = Path(drift["report_path"])
    assert f"/{GENERATION_PREFIX}" in str(worker_drift_html) and worker_drift_html.is_file()
    worker_validated = worker.require_partition("validated", spec.name, DRIFT_DS)
    rows = len(pd.read_parquet(worker_validated / "data.parquet"))
    built = time.perf_counter() - started

    # ---- the API server: the same lake URI, an empty cache of its own ------------------------------
    api_cache = tmp_path / "api-server-cache"
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_CACHE", str(api_cache))
    lake = Lake()
    assert lake.remote and lake.root.is_relative_to(api_cache) and not api_cache.exists()

    cards = lake.list_files(lake.zone_dir("reports", "churn") / "model_cards")  # listed, not downloaded
    assert cards == [lake.root / "reports/churn/model_cards/v1.html"] and not cards[0].exists()
    reports = data.recent_reports(spec, lake)
    assert [r["ds"] for r in reports] == sorted(DAY_LIST, reverse=True)
    by_ds = {r["ds"]: r["kinds"] for r in reports}
    for ds in DAY_LIST:
        assert [f["name"] for f in by_ds[ds]["validation"]] == ["validation.html", "validation.json"], ds
        assert by_ds[ds]["validation"][1]["url"] == f"/ml-lifecycle/files/churn/validation/ds={ds}/validation.json"
    assert sorted(by_ds[DRIFT_DS]) == ["drift", "gate", "validation"]
    assert {f["name"]: f["url"] for f in by_ds[DRIFT_DS]["drift"]}["drift_report.html"] == (
        f"/ml-lifecycle/files/churn/drift/ds={DRIFT_DS}/drift_report.html")
    assert by_ds[DRIFT_DS]["gate"] == [{"name": "v1.json", "url": f"/ml-lifecycle/files/churn/gate/ds={DRIFT_DS}/v1.json"}]
    urls = [f["url"] for r in reports for files in r["kinds"].values() for f in files]
    assert urls and not [u for u in urls if GENERATION_PREFIX in u]

    drift_view = data.drift_days(spec, lake)
    assert [p["ds"] for p in drift_view["points"]] == [DRIFT_DS]
    assert drift_view["points"][0]["report_url"] == f"/ml-lifecycle/files/churn/drift/ds={DRIFT_DS}/drift_report.html"
    version = data.versions(spec, lake, target, target.activate())[0]
    assert version["model_card_url"] == "/ml-lifecycle/files/churn/model_cards/v1.html"

    # The files behind the links, with the content the worker wrote.
    served = _report_file("churn", f"drift/ds={DRIFT_DS}/drift_report.html")
    assert served.is_relative_to(api_cache) and served.read_bytes() == worker_drift_html.read_bytes()
    validation = json.loads(_report_file("churn", f"validation/ds={DRIFT_DS}/validation.json").read_text())
    key = f"lake/reports/churn/validation/ds={DRIFT_DS}/validation.json"
    assert validation == json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert validation["ds"] == DRIFT_DS
    assert _report_file("churn", "model_cards/v1.html").read_text() == "<html><body>card of v1</body></html>"
    info = _partition_info("validated", "churn", DRIFT_DS)
    assert info["row_count"] == rows > 0 and info["path"].startswith(f"{uri}/validated/churn/ds={DRIFT_DS}/_gen=")

    # Through the app's routes (auth manager and all), the same; nothing outside the reports tree.
    client = _client(monkeypatch)
    response = client.get(f"/files/churn/drift/ds={DRIFT_DS}/drift_report.html")
    assert response.status_code == 200 and response.content == worker_drift_html.read_bytes()
    assert response.headers["content-type"].startswith("text/html")
    response = client.get(f"/files/churn/gate/ds={DRIFT_DS}/v1.json")
    assert response.status_code == 200 and response.json() == {"decision": "PROMOTE"}
    generation = worker_drift_html.parent.name
    for bad in (f"drift/ds={DRIFT_DS}/{generation}/drift_report.html", f"drift/ds={DRIFT_DS}/_SUCCESS",
                "drift/ds=2024-01-01/drift_report.html", "validation/ds=2024-01-01/validation.json",
                f"../validated/churn/ds={DRIFT_DS}/data.parquet", "model_cards/v9.html"):
        assert client.get(f"/files/churn/{bad}").status_code == 404, bad
    page = client.get(f"/partitions/validated/churn/{DRIFT_DS}")
    assert page.status_code == 200 and f"{rows:,}" in page.text
    assert client.get("/partitions/validated/churn/2024-01-01").status_code == 404

    # ---- links: a worker's cache path gives the URL of the same file of a local lake ---------------
    worker_paths = {
        "drift": str(worker_drift_html),
        "validation": str(worker.report_dir(spec.name, "validation", DRIFT_DS) / "validation.html"),
        "card": str(card),
    }
    remote_urls = {k: links.file_url(p) for k, p in worker_paths.items()}
    remote_partition = links.partition_url(str(worker_validated / "data.parquet"))
    assert links.file_url(f"{uri}/reports/churn/drift/ds={DRIFT_DS}/{generation}/drift_report.html") == remote_urls["drift"]
    assert links.partition_url(worker.location(worker_validated)) == remote_partition
    local_root = tmp_path / "local-lake"
    monkeypatch.setenv("ML_LIFECYCLE_LAKE_ROOT", str(local_root))
    reports_dir = local_root / "reports" / "churn"
    assert remote_urls == {
        "drift": links.file_url(str(reports_dir / "drift" / f"ds={DRIFT_DS}" / "drift_report.html")),
        "validation": links.file_url(str(reports_dir / "validation" / f"ds={DRIFT_DS}" / "validation.html")),
        "card": links.file_url(str(reports_dir / "model_cards" / "v1.html")),
    }
    assert remote_urls["drift"] == f"/ml-lifecycle/files/churn/drift/ds={DRIFT_DS}/drift_report.html"
    assert remote_partition == links.partition_url(str(local_root / "validated" / "churn" / f"ds={DRIFT_DS}")) == (
        f"/ml-lifecycle/partitions/validated/churn/{DRIFT_DS}")

    # ---- the same lifecycle on a local lake: the same Models view, link for link --------------------
    local, _ = validated_lake(spec, local_root, start=START, days=DAYS, label_delay_days=1, seed=5)
    check_partition_drift(spec, local, DRIFT_DS, target)
    local.write_json(local.report_dir(spec.name, "gate", DRIFT_DS) / "v1.json", {"decision": "PROMOTE"})
    local.write_text(card_paths(spec, local, "1")[1], "<html><body>card of v1</body></html>")
    assert data.recent_reports(spec, local) == reports
    assert data.drift_days(spec, local)["points"][0]["report_url"] == drift_view["points"][0]["report_url"]
    assert data.versions(spec, local, target, target.activate())[0]["model_card_url"] == version["model_card_url"]
    local_html = _report_file("churn", f"drift/ds={DRIFT_DS}/drift_report.html")
    assert local_html == (reports_dir / "drift" / f"ds={DRIFT_DS}" / "drift_report.html").resolve()
    assert json.loads(_report_file("churn", f"validation/ds={DRIFT_DS}/validation.json").read_text())["ds"] == DRIFT_DS
    assert _partition_info("validated", "churn", DRIFT_DS)["row_count"] == rows
    print(f"\nremote lake built in {built:.1f}s; UI checks {time.perf_counter() - started - built:.1f}s")


def test_list_files_of_a_local_lake(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    folder = lake.zone_dir("reports", "p") / "validation"
    assert lake.list_files(folder) == []
    lake.write_text(folder / "ds=2024-06-02" / "validation.html", "b")
    lake.write_json(folder / "ds=2024-06-01" / "validation.json", {})
    (folder / "ds=2024-06-01" / ".validation.json.123.tmp").write_text("half")
    assert lake.list_files(folder) == [folder / "ds=2024-06-01" / "validation.json",
                                       folder / "ds=2024-06-02" / "validation.html"]
