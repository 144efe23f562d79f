"""The plugin's FastAPI app, mounted by Airflow's API server at ``/ml-lifecycle``.

Routes (all behind Airflow's authentication: the ``_token`` cookie the UI's login sets, or an
``Authorization: Bearer`` JWT; none gives 401, an invalid or expired one 401/403, and a user who may not
read the pipeline's DAGs gets 403):

- ``/models`` and ``/models/<pipeline>``: the Models page (champion, challenger, alias history with the
  gate's verdicts and who approved, 30 days of drift and realized performance, reports, model cards);
- ``/api/models/<pipeline>``: the same as JSON;
- ``/files/<pipeline>/<path>``: a report or model card under ``reports/<pipeline>/`` of the lake;
- ``/partitions/<zone>/<pipeline>/<ds>``: a lake partition (metadata, files, schema, first rows).

Paths are logical lake paths (never a cache's ``_gen=`` folder) read through :class:`Lake`, so the routes
work the same on a local lake and on object storage, where this process's lake cache starts empty.

Handlers are plain ``def``: FastAPI runs them in its thread pool, so MLflow and file reads never block
the API server's event loop.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from ml_lifecycle.ui import data, pages
from ml_lifecycle.ui.links import ZONES_WITH_PAGES
from ml_lifecycle.ui.urls import app_url

MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".md": "text/plain; charset=utf-8"}
# Reports are generated HTML (Evidently's has scripts): they run in an opaque origin, so nothing in them
# can call Airflow's API with the viewer's session.
REPORT_HEADERS = {"Content-Security-Policy": "sandbox allow-scripts allow-popups allow-downloads",
                  "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
SAMPLE_ROWS = 20


def readable_pipelines(user: BaseUser) -> list[str]:
    """The pipelines whose DAGs the user may read (any of them), per Airflow's auth manager."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    manager = get_auth_manager()
    return [p for p in data.pipeline_names()
            if any(manager.is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user)
                   for dag_id in data.dag_ids(p))]


def require_pipeline(user: BaseUser, pipeline: str) -> None:
    if pipeline not in data.pipeline_names():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pipeline {pipeline!r}")
    if pipeline not in readable_pipelines(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"you may not read the DAGs of pipeline {pipeline!r}")


def create_app() -> FastAPI:
    app = FastAPI(title="ML lifecycle", description="Models, reports and partitions of the ml-lifecycle bundle",
                  docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", include_in_schema=False)
    def root(user: GetUserDep) -> RedirectResponse:
        return RedirectResponse(app_url("models"))

    @app.get("/models", response_class=HTMLResponse)
    def models_index(user: GetUserDep) -> Any:
        readable = readable_pipelines(user)
        if not readable:
            return HTMLResponse(pages.no_pipelines_page())
        return RedirectResponse(app_url(f"models/{readable[0]}"))

    @app.get("/models/{pipeline}", response_class=HTMLResponse)
    def models(pipeline: str, user: GetUserDep) -> HTMLResponse:
        require_pipeline(user, pipeline)
        return HTMLResponse(pages.models_page(data.model_page(pipeline), readable_pipelines(user)),
                            headers={"Cache-Control": "private, no-store"})

    @app.get("/api/models/{pipeline}")
    def models_json(pipeline: str, user: GetUserDep) -> JSONResponse:
        require_pipeline(user, pipeline)
        return JSONResponse(data.model_page(pipeline))

    @app.get("/files/{pipeline}/{path:path}")
    def report_file(pipeline: str, path: str, user: GetUserDep) -> FileResponse:
        require_pipeline(user, pipeline)
        file = _report_file(pipeline, path)
        return FileResponse(file, media_type=MEDIA_TYPES[file.suffix], headers=REPORT_HEADERS)

    @app.get("/partitions/{zone}/{pipeline}/{ds}", response_class=HTMLResponse)
    def partition(zone: str, pipeline: str, ds: str, user: GetUserDep) -> HTMLResponse:
        require_pipeline(user, pipeline)
        if zone not in ZONES_WITH_PAGES:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pages for the lake zone {zone!r}")
        return HTMLResponse(pages.partition_page(_partition_info(zone, pipeline, ds)),
                            headers={"Cache-Control": "private, no-store"})

    return app


def _report_file(pipeline: str, path: str) -> Path:
    """A file under ``reports/<pipeline>/`` of the lake, by its logical path; 404 for anything else.

    Resolved through the lake, so the same on a local lake and on object storage (where it is downloaded
    into this process's cache): ``<kind>/ds=<ds>/<file>`` of a published report (one with a ``_SUCCESS``
    marker: drift, performance, retraining, evaluation) is read from the report's folder, which on object
    storage is its published generation; anything else (validation and gate reports, model cards) is a
    plain file of the lake. No ``..``, no hidden or ``_gen=`` parts, only the suffixes of ``MEDIA_TYPES``.
    """
    from ml_lifecycle.exceptions import LakeStorageError
    from ml_lifecycle.lake import GENERATION_PREFIX, Lake, as_ds

    parts = [part for part in path.split("/") if part]
    if (not parts or any(part in ("..", ".") or part.startswith((".", GENERATION_PREFIX)) for part in parts)
            or PurePosixPath(parts[-1]).suffix not in MEDIA_TYPES):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
    lake = Lake()
    reports = lake.zone_dir("reports", pipeline)
    try:
        file = None
        if len(parts) >= 3 and parts[1].startswith("ds="):
            try:
                folder = lake.report_dir(pipeline, parts[0], as_ds(parts[1][3:]))
            except ValueError:
                folder = None
            if folder is not None and lake.is_complete(folder):
                file = folder.joinpath(*parts[2:])
        if file is None:
            file = reports.joinpath(*parts)
            if lake.remote:
                file = lake.fetch_file(file)
    except LakeStorageError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the lake cannot be read: {exc}") from exc
    file = file.resolve()
    if not file.is_relative_to(reports.resolve()) or not file.is_file() or file.suffix not in MEDIA_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such report")
    return file


def _partition_info(zone: str, pipeline: str, ds: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from ml_lifecycle.exceptions import LakeStorageError, PartitionNotFound
    from ml_lifecycle.lake import Lake, as_ds

    lake = Lake()
    try:
        ds = as_ds(ds)
        folder = lake.require_partition(zone, pipeline, ds)  # on object storage: downloaded into the cache
        metadata = lake.partition_metadata(zone, pipeline, ds)
    except (ValueError, PartitionNotFound) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except LakeStorageError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the lake cannot be read: {exc}") from exc
    files = sorted(p for p in folder.iterdir() if p.is_file())
    parquet = [p for p in files if p.suffix == ".parquet"]
    info: dict[str, Any] = {
        "zone": zone, "pipeline": pipeline, "ds": ds, "path": lake.location(folder), "metadata": metadata,
        "files": [{"name": p.name, "bytes": p.stat().st_size} for p in files],
        "row_count": 0, "schema": [], "columns": [], "rows": [],
    }
    if parquet:
        first = pq.ParquetFile(parquet[0])
        info["row_count"] = sum(pq.ParquetFile(p).metadata.num_rows for p in parquet)
        info["schema"] = [(field.name, str(field.type)) for field in first.schema_arrow]
        info["columns"] = list(first.schema_arrow.names)
        batch = next(first.iter_batches(batch_size=SAMPLE_ROWS), None)
        if batch is not None:
            info["rows"] = [list(row.values()) for row in batch.to_pylist()]
    return info
