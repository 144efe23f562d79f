"""What the Models page shows, gathered from the registry (MLflow), the lake and Airflow's metadata DB.

Plain functions returning JSON-able dicts, so the page, its JSON twin (``/api/models/<pipeline>``) and
the tests read the same thing. MLflow is imported only here, inside the functions (the API server pays
for it on the first request, never at plugin import).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_lifecycle.settings import include_dir
from ml_lifecycle.ui.charts import day_range
from ml_lifecycle.ui.urls import api_root_path, app_url

if TYPE_CHECKING:
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import PipelineSpec
    from ml_lifecycle.tracking import TrackingTarget

HOLDOUT_METRICS = ("roc_auc", "pr_auc", "f1", "log_loss", "brier")
REPORT_KINDS = ("validation", "drift", "performance", "retraining", "gate", "evaluation")
# Published with Lake.publish_report / Lake.publish (a _SUCCESS marker per date; a generation on object
# storage); the other kinds are plain files written with Lake.write_json / Lake.write_text.
PUBLISHED_REPORT_KINDS = ("drift", "performance", "retraining", "evaluation")
REPORT_SUFFIXES = (".html", ".json")
APPROVED_BY = re.compile(r"approved by ([^;]+);")
DAYS = 30


def pipeline_names() -> list[str]:
    return sorted(path.stem for path in (include_dir() / "pipelines").glob("*.yaml"))


def dag_ids(pipeline: str) -> list[str]:
    """The pipeline's DAGs, by the bundle's naming convention (dags/<pipeline>_<kind>.py)."""
    return [f"{pipeline}_{kind}" for kind in ("daily", "training", "rollback")]


def tracking_target() -> TrackingTarget:
    """Where MLflow is: the ``mlflow_default`` connection, as the tasks see it, else the environment."""
    from ml_lifecycle.tracking import TrackingTarget

    try:
        from ml_lifecycle.hooks.mlflow import MlflowHook

        return MlflowHook().get_target()
    except Exception:
        return TrackingTarget.from_env()


def airflow_run_url(dag_id: str, run_id: str) -> str:
    from urllib.parse import quote

    return f"{api_root_path()}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def file_link(path: Path, lake: Lake, pipeline: str) -> str:
    """The app URL of a file under ``reports/<pipeline>/`` of ``lake``: its logical lake path.

    ``path`` is under the lake's root (a local lake, or the cache of an object-storage lake); the
    ``_gen=<generation>`` folder a published report was read from is not part of its address.
    """
    from ml_lifecycle.lake import GENERATION_PREFIX

    parts = path.relative_to(lake.zone_dir("reports", pipeline)).parts
    logical = "/".join(part for part in parts if not part.startswith(GENERATION_PREFIX))
    return app_url(f"files/{pipeline}/{logical}")


def _iso_from_ms(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds") if ms else None


def _gate_headline(tags: dict[str, str]) -> str:
    try:
        reasons = json.loads(tags.get("gate.reasons", "[]"))
    except ValueError:
        return ""
    for reason in reasons:
        if "vs champion" in reason or "no champion yet" in reason or str(reason).startswith("FORCED"):
            return str(reason)
    return str(reasons[-1]) if reasons else ""


def _verdict(tags: dict[str, str]) -> str | None:
    decision = tags.get("gate.decision")
    if decision and tags.get("gate.forced") == "true":
        return f"{decision} (forced; judged {tags.get('gate.judged_decision', '?')})"
    return decision


def _realized_by_version(spec: PipelineSpec, lake: Lake) -> tuple[str | None, dict[str, Any]]:
    from ml_lifecycle.lake import latest_report

    found = latest_report(lake, spec.name, "performance")
    return found if found else (None, {})


def versions(spec: PipelineSpec, lake: Lake, target: TrackingTarget, client: Any) -> list[dict[str, Any]]:
    """Every registered version, newest first, with holdout metrics, verdict, realized metrics and links."""
    from ml_lifecycle.registry import card_folder, card_paths

    name = spec.model.registered_name
    cards = set(lake.list_files(card_folder(spec, lake)))  # one listing, nothing downloaded
    aliases: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(name).aliases or {}).items():
        aliases.setdefault(str(version), []).append(str(alias))
    _, realized = _realized_by_version(spec, lake)
    metric = spec.monitoring.rollback_metric
    found = []
    for mv in client.search_model_versions(f"name='{name}'"):
        tags = dict(mv.tags or {})
        metrics: dict[str, float] = {}
        run_url = None
        if mv.run_id:
            try:
                run = client.get_run(mv.run_id)
                metrics = dict(run.data.metrics)
                run_url = target.run_url(run.info.experiment_id, mv.run_id)
            except Exception:  # a deleted run must not break the page
                pass
        _, card = card_paths(spec, lake, str(mv.version))
        real = (realized.get("by_version") or {}).get(str(mv.version)) or {}
        found.append({
            "version": str(mv.version),
            "created": _iso_from_ms(mv.creation_timestamp),
            "run_id": mv.run_id,
            "aliases": sorted(aliases.get(str(mv.version), [])),
            "training_as_of": tags.get("training_as_of"),
            "gate": _verdict(tags),
            "gate_headline": _gate_headline(tags),
            "gate_failed_checks": tags.get("gate.failed_checks"),
            "champion_since": tags.get("champion.since"),
            "champion_until": tags.get("champion.until"),
            "holdout": {m: metrics.get(f"holdout_{m}") for m in HOLDOUT_METRICS},
            "train_rows": metrics.get("train_rows"),
            "latency_ms_10k": metrics.get("latency_ms_10k"),
            "model_bytes": metrics.get("model_bytes"),
            "realized": {"rows": real.get("rows"), metric: real.get(metric)} if real else None,
            "model_card_url": file_link(card, lake, spec.name) if card in cards else None,
            "mlflow_url": target.model_version_url(name, mv.version),
            "mlflow_run_url": run_url,
            "tags": tags,
        })
    return sorted(found, key=lambda v: int(v["version"]), reverse=True)


def _triggering_users(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """Who triggered each (dag_id, run_id) in Airflow's metadata DB (None when unknown)."""
    if not pairs:
        return {}
    try:
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            rows = session.execute(
                select(DagRun.dag_id, DagRun.run_id, DagRun.triggering_user_name).where(
                    DagRun.run_id.in_([run for _, run in pairs]))
            ).all()
        return {(dag, run): user for dag, run, user in rows}
    except Exception:
        return {}


def alias_history(spec: PipelineSpec, target: TrackingTarget, tags_by_version: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Every move of ``champion`` and ``challenger``, newest first, with the gate's verdict and who did it."""
    from ml_lifecycle.registry import alias_history as recorded

    events = recorded(spec, target, None)
    runs = {}
    for event in events:
        lineage = event.get("lineage") or {}
        actor = str(event.get("actor") or "")
        dag_id, run_id = lineage.get("airflow.dag_id"), lineage.get("airflow.run_id")
        if not (dag_id and run_id) and actor.startswith("airflow:") and "/" in actor:
            dag_id, run_id = actor[len("airflow:"):].split("/", 1)
        if dag_id and run_id:
            runs[event["event_run_id"]] = (dag_id, run_id)
    users = _triggering_users(set(runs.values()))
    rows = []
    for event in events:
        to_version = event.get("to_version")
        tags = tags_by_version.get(str(to_version), {})
        reason = str(event.get("reason") or "")
        approved = APPROVED_BY.search(reason)
        dag_run = runs.get(event["event_run_id"])
        rows.append({
            "at": event.get("at"),
            "alias": event.get("alias"),
            "from_version": event.get("from_version"),
            "to_version": to_version,
            "action": event.get("action"),
            "actor": event.get("actor"),
            "airflow_run_url": airflow_run_url(*dag_run) if dag_run else None,
            "triggered_by": users.get(dag_run) if dag_run else None,
            "approved_by": approved.group(1).strip() if approved else None,
            "verdict": _verdict(tags) if event.get("action") in ("promote", "forced_promote", "candidate") else None,
            "reason": reason,
        })
    return sorted(rows, key=lambda row: row["at"] or "", reverse=True)


def drift_days(spec: PipelineSpec, lake: Lake, days: int = DAYS) -> dict[str, Any]:
    """The drift verdicts of the ``days`` days up to the newest drift report."""
    from ml_lifecycle.lake import drift_html, read_report

    reports = lake.reports(spec.name, "drift")
    if not reports:
        return {"days": [], "points": []}
    window = day_range(reports[-1], days)
    points = []
    for ds in reports:
        if ds < window[0]:
            continue
        try:
            payload = read_report(lake, spec.name, "drift", ds)
            html = drift_html(lake, spec.name, ds)
        except (OSError, ValueError):  # replaced or removed since it was listed, or not JSON
            continue
        points.append({
            "ds": ds,
            "drift_share": float(payload.get("drift_share") or 0.0),
            "dataset_drift": bool(payload.get("dataset_drift")),
            "drifted_columns": list(payload.get("drifted_columns") or []),
            "report_url": file_link(html, lake, spec.name) if html.is_file() else None,
        })
    return {"days": window, "points": points, "threshold": spec.drift.drift_share}


def performance_days(spec: PipelineSpec, lake: Lake, days: int = DAYS) -> dict[str, Any]:
    """Realized performance per event date and model version, over the ``days`` days up to the newest."""
    report_ds, report = _realized_by_version(spec, lake)
    metric = spec.monitoring.rollback_metric
    by_date = report.get("by_event_date") or {}
    if not by_date:
        return {"days": [], "series": {}, "metric": metric, "report_ds": report_ds}
    window = day_range(max(by_date), days)
    series: dict[str, list[tuple[str, float]]] = {}
    for ds in sorted(by_date):
        if ds < window[0]:
            continue
        for version, values in (by_date[ds].get("by_version") or {}).items():
            if values.get(metric) is not None:
                series.setdefault(str(version), []).append((ds, float(values[metric])))
    return {
        "days": window,
        "series": series,
        "metric": metric,
        "floor": spec.retraining.performance_floor.get(metric),
        "report_ds": report_ds,
        "window": {k: (report.get("window") or {}).get(k) for k in ("from", "to", "rows", metric)},
    }


def recent_reports(spec: PipelineSpec, lake: Lake, days: int = DAYS) -> list[dict[str, Any]]:
    """Links to every report of the last ``days`` days (by report date), newest first.

    Read through the lake, so the same on a local lake and on object storage (where this process's cache
    may hold nothing): published kinds by their markers, plain files by listing them.
    """
    from ml_lifecycle.lake import as_ds

    base = lake.zone_dir("reports", spec.name)
    by_day: dict[str, dict[str, list[Path]]] = {}
    for kind in REPORT_KINDS:
        if kind in PUBLISHED_REPORT_KINDS:
            for ds in lake.reports(spec.name, kind):
                by_day.setdefault(ds, {})[kind] = []  # its files are read below, for the days shown only
            continue
        for path in lake.list_files(base / kind):
            parts = path.relative_to(base / kind).parts
            if len(parts) == 2 and parts[0].startswith("ds=") and path.suffix in REPORT_SUFFIXES:
                try:
                    ds = as_ds(parts[0][3:])
                except ValueError:
                    continue
                by_day.setdefault(ds, {}).setdefault(kind, []).append(path)
    if not by_day:
        return []
    window = set(day_range(max(by_day), days))
    out = []
    for ds in sorted(by_day, reverse=True):
        if ds not in window:
            continue
        kinds: dict[str, list[dict[str, str]]] = {}
        for kind in REPORT_KINDS:
            if kind not in by_day[ds]:
                continue
            files = by_day[ds][kind]
            if kind in PUBLISHED_REPORT_KINDS:
                folder = lake.report_dir(spec.name, kind, ds)
                if not lake.is_complete(folder):  # replaced or removed since it was listed
                    continue
                files = [p for p in folder.iterdir() if p.suffix in REPORT_SUFFIXES and p.is_file()]
            if files:
                kinds[kind] = [{"name": p.name, "url": file_link(p, lake, spec.name)} for p in sorted(files)]
        if kinds:
            out.append({"ds": ds, "kinds": kinds})
    return out


def model_page(pipeline: str) -> dict[str, Any]:
    """Everything the Models page shows for one pipeline."""
    from ml_lifecycle.lake import Lake
    from ml_lifecycle.spec import load_spec

    spec = load_spec(pipeline)
    lake = Lake()
    page: dict[str, Any] = {
        "pipeline": spec.name,
        "owner": spec.owner,
        "model_name": spec.model.registered_name,
        "primary_metric": spec.gate.primary_metric,
        "realized_metric": spec.monitoring.rollback_metric,
        "dags": dag_ids(spec.name),
        "registered": False,
        "champion": None,
        "challenger": None,
        "versions": [],
        "history": [],
        "errors": [],
    }
    target = tracking_target()
    try:
        with target.credentials():  # the connection's server credentials, for this request only
            _registry_part(spec, lake, target, page)
    except Exception as exc:  # MLflow unreachable: the lake's part of the page still shows
        page["errors"].append(f"MLflow ({target.tracking_uri}): {type(exc).__name__}: {exc}")
    page["drift"] = drift_days(spec, lake)
    page["performance"] = performance_days(spec, lake)
    page["reports"] = recent_reports(spec, lake)
    return page


def _registry_part(spec: PipelineSpec, lake: Lake, target: TrackingTarget, page: dict[str, Any]) -> None:
    from mlflow.exceptions import MlflowException


    client = target.activate()
    try:
        client.get_registered_model(spec.model.registered_name)
        page["registered"] = True
    except MlflowException:
        pass
    if page["registered"]:
        page["versions"] = versions(spec, lake, target, client)
        by_version = {v["version"]: v for v in page["versions"]}
        for alias in ("champion", "challenger"):
            page[alias] = next((v for v in page["versions"] if alias in v["aliases"]), None)
        page["history"] = alias_history(spec, target, {v: info["tags"] for v, info in by_version.items()})
