"""HTML of the plugin's pages: the Models page of a pipeline and the page of a lake partition.

Server-side HTML with inline CSS and SVG: it works in the Airflow UI's iframe, offline, without a
JavaScript bundle. Every value from the registry or the lake is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ml_lifecycle.ui.charts import PALETTE, Bar, Frame, Series, bar_chart, line_chart
from ml_lifecycle.ui.urls import app_url

STYLE = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:16px 20px;
color:#212121;font-size:14px;background:#fff}
h1{font-size:20px;margin:12px 0 4px}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:4px}
.muted{color:#757575}.tabs a{margin-right:12px;padding:4px 10px;border-radius:12px;text-decoration:none;color:#1565c0}
.tabs a.active{background:#1565c0;color:#fff}
table{border-collapse:collapse;margin:6px 0;width:100%}th,td{border-bottom:1px solid #eeeeee;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#fafafa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #e0e0e0;border-radius:8px;padding:10px 14px;min-width:320px;flex:1}
.card h3{margin:0 0 6px;font-size:15px}.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;
font-weight:600}.PROMOTE{background:#e8f5e9;color:#1b5e20}.HOLD{background:#fff8e1;color:#e65100}
.REJECT{background:#ffebee;color:#b71c1c}.alias{background:#e3f2fd;color:#0d47a1;margin-right:4px}
.error{background:#ffebee;border:1px solid #ef9a9a;padding:8px;border-radius:6px}
.reason{max-width:520px;font-size:12px;color:#424242}a{color:#1565c0}
.charts{display:grid;grid-template-columns:1fr;gap:8px;max-width:900px}
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _link(url: str | None, text: str) -> str:
    """A plain link. The page runs in the Airflow UI's iframe, sandboxed without ``allow-popups`` and
    ``allow-top-navigation``: a ``target`` would be blocked, so every link opens in the frame itself
    (the browser's Back returns to the Models page)."""
    if not url:
        return escape(text)
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def _version(version: str | None) -> str:
    return "–" if version in (None, "", "none") else f"v{escape(str(version))}"


def _verdict_badge(verdict: str | None) -> str:
    if not verdict:
        return '<span class="muted">–</span>'
    kind = verdict.split()[0]
    return f'<span class="badge {escape(kind)}">{escape(verdict)}</span>'


def document(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style>"
            f"</head><body>{body}</body></html>")


def _tabs(pipelines: Sequence[str], current: str) -> str:
    links = [f'<a class="{"active" if p == current else ""}" href="{escape(app_url(f"models/{p}"))}">{escape(p)}</a>'
             for p in pipelines]
    return f'<nav class="tabs" aria-label="pipelines">{"".join(links)}</nav>'


def _model_card(role: str, info: dict[str, Any] | None, page: dict[str, Any]) -> str:
    if info is None:
        return (f'<div class="card" id="{role}"><h3>{role.capitalize()}</h3>'
                f'<p class="muted">no {role} ({"no version registered yet" if not page["versions"] else "alias not set"})'
                "</p></div>")
    metric = page["realized_metric"]
    realized = info.get("realized") or {}
    rows = "".join(f'<tr><th>{escape(m)}</th><td class="num" data-metric="{escape(m)}">{_fmt(v, 4)}</td></tr>'
                   for m, v in info["holdout"].items())
    links = " · ".join(part for part in (
        _link(info.get("model_card_url"), "model card") if info.get("model_card_url") else "",
        _link(info.get("mlflow_url"), "MLflow version") if info.get("mlflow_url") else "",
        _link(info.get("mlflow_run_url"), "MLflow run") if info.get("mlflow_run_url") else "",
    ) if part)
    since = (f"<div class=\"muted\">champion since {_fmt(info.get('champion_since'))}</div>" if role == "champion"
             else "")
    return (
        f'<div class="card" id="{role}" data-version="{escape(info["version"])}">'
        f'<h3>{role.capitalize()}: <span class="version">v{escape(info["version"])}</span> '
        f"{_verdict_badge(info.get('gate'))}</h3>"
        f"<div>trained as of {_fmt(info.get('training_as_of'))} · registered {_fmt(info.get('created'))}</div>{since}"
        f'<div class="reason">{escape(info.get("gate_headline") or "")}</div>'
        f"<table><tr><th>holdout metric</th><td class=\"num\">v{escape(info['version'])}</td></tr>{rows}"
        f"<tr><th>realized {escape(metric)}</th><td class=\"num\" data-metric=\"realized_{escape(metric)}\">"
        f"{_fmt(realized.get(metric), 4)}</td></tr>"
        f"<tr><th>labelled rows scored</th><td class=\"num\">{_fmt(realized.get('rows'))}</td></tr></table>"
        f"<div>{links}</div></div>"
    )


def _history(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">no alias moves recorded yet</p>'
    body = []
    for row in rows:
        actor = _link(row.get("airflow_run_url"), str(row.get("actor") or ""))
        who = []
        if row.get("triggered_by"):
            who.append(f"triggered by {escape(row['triggered_by'])}")
        if row.get("approved_by"):
            who.append(f"approved by <strong>{escape(row['approved_by'])}</strong>")
        body.append(
            f'<tr class="history-row" data-alias="{escape(str(row["alias"]))}" data-action="{escape(str(row["action"]))}">'
            f"<td>{_fmt((row.get('at') or '')[:19].replace('T', ' '))}</td><td>{_fmt(row['alias'])}</td>"
            f"<td>{_version(row['from_version'])} → {_version(row['to_version'])}</td><td>{_fmt(row['action'])}</td>"
            f"<td>{_verdict_badge(row.get('verdict'))}</td>"
            f"<td>{actor}<div class=\"muted\">{' · '.join(who) or 'no approval recorded'}</div></td>"
            f'<td class="reason">{escape(row.get("reason") or "")}</td></tr>'
        )
    return ('<table id="alias-history"><thead><tr><th>at (UTC)</th><th>alias</th><th>move</th><th>action</th>'
            "<th>gate verdict</th><th>who</th><th>reason</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def _versions(rows: list[dict[str, Any]], page: dict[str, Any]) -> str:
    if not rows:
        return '<p class="muted">no registered version yet</p>'
    metric = page["realized_metric"]
    body = []
    for v in rows:
        aliases = "".join(f'<span class="badge alias">{escape(a)}</span>' for a in v["aliases"])
        realized = v.get("realized") or {}
        body.append(
            f'<tr class="version-row" data-version="{escape(v["version"])}"><td>v{escape(v["version"])} {aliases}</td>'
            f"<td>{_fmt(v.get('training_as_of'))}</td><td>{_verdict_badge(v.get('gate'))}</td>"
            f"<td class=\"num\">{_fmt(v['holdout'].get('roc_auc'), 4)}</td><td class=\"num\">{_fmt(v['holdout'].get('pr_auc'), 4)}</td>"
            f"<td class=\"num\">{_fmt(realized.get(metric), 4)}</td><td class=\"num\">{_fmt(realized.get('rows'))}</td>"
            f"<td>{_link(v.get('model_card_url'), 'card') if v.get('model_card_url') else '–'}"
            f"{' · ' + _link(v.get('mlflow_url'), 'MLflow') if v.get('mlflow_url') else ''}</td></tr>"
        )
    return ('<table id="versions"><thead><tr><th>version</th><th>trained as of</th><th>gate</th>'
            f'<th>holdout roc_auc</th><th>holdout pr_auc</th><th>realized {escape(metric)}</th><th>labelled rows</th>'
            "<th>links</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def _drift_chart(drift: dict[str, Any]) -> str:
    if not drift["points"]:
        return '<p class="muted" id="drift-plot-empty">no drift report yet (drift is checked once a champion scores)</p>'
    threshold = drift.get("threshold")
    frame = Frame(days=drift["days"], y_min=0.0, y_max=1.0,
                  guides=[(threshold, f"dataset drift at share ≥ {threshold:g}")] if threshold else [])
    bars = [Bar(p["ds"], p["drift_share"], p["dataset_drift"], p.get("report_url")) for p in drift["points"]]
    title = f"Share of drifted features per day, {drift['days'][0]} .. {drift['days'][-1]}"
    return bar_chart("drift-plot", title, bars, frame, ticks=[0, 0.25, 0.5, 0.75, 1.0], tick_format=".2f",
                     legend=[("drift", "#c62828"), ("no drift", "#90a4ae")])


def _performance_chart(perf: dict[str, Any]) -> str:
    if not perf["series"]:
        return ('<p class="muted" id="performance-plot-empty">no realized performance yet (labels arrive days after '
                "scoring)</p>")
    values = [value for points in perf["series"].values() for _, value in points]
    floor = perf.get("floor")
    low = min([*values, floor] if floor is not None else values)
    y_min = max(0.0, round(low - 0.05, 1))
    ticks = [round(y_min + step * (1.0 - y_min) / 4, 2) for step in range(5)]
    frame = Frame(days=perf["days"], y_min=y_min, y_max=1.0,
                  guides=[(floor, f"retraining floor {floor:g}")] if floor is not None else [])
    series = [Series(f"v{version}", points, PALETTE[index % len(PALETTE)])
              for index, (version, points) in enumerate(sorted(perf["series"].items(), key=lambda kv: int(kv[0])))]
    title = (f"Realized {perf['metric']} per event date and model version, {perf['days'][0]} .. {perf['days'][-1]}"
             f" (report of {perf['report_ds']})")
    return line_chart("performance-plot", title, series, frame, ticks=ticks)


def _reports(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">no reports yet</p>'
    kinds = ["validation", "drift", "performance", "retraining", "gate", "evaluation"]
    body = []
    for row in rows:
        cells = []
        for kind in kinds:
            files = row["kinds"].get(kind, [])
            cells.append("<td>" + " ".join(_link(f["url"], f["name"]) for f in files) + "</td>")
        body.append(f'<tr class="report-row" data-ds="{escape(row["ds"])}"><td>{escape(row["ds"])}</td>{"".join(cells)}</tr>')
    head = "".join(f"<th>{k}</th>" for k in kinds)
    return f'<table id="reports"><thead><tr><th>date</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def models_page(page: dict[str, Any], pipelines: Sequence[str]) -> str:
    errors = "".join(f'<p class="error">{escape(e)}</p>' for e in page["errors"])
    dags = " · ".join(_link(f"{_root()}/dags/{d}", d) for d in page["dags"])
    body = (
        f"{_tabs(pipelines, page['pipeline'])}"
        f"<h1>Models: {escape(page['pipeline'])} <span class=\"muted\">({escape(page['model_name'])})</span></h1>"
        f"<div class=\"muted\">owner {escape(page['owner'])} · gate metric {escape(page['primary_metric'])} · DAGs {dags}</div>"
        f"{errors}"
        f"<h2>Champion and challenger</h2><div class=\"cards\">{_model_card('champion', page['champion'], page)}"
        f"{_model_card('challenger', page['challenger'], page)}</div>"
        f"<h2>Last 30 days</h2><div class=\"charts\">{_drift_chart(page['drift'])}{_performance_chart(page['performance'])}</div>"
        f"<h2>Alias history</h2>{_history(page['history'])}"
        f"<h2>Versions</h2>{_versions(page['versions'], page)}"
        f"<h2>Reports (last 30 days)</h2>{_reports(page['reports'])}"
    )
    return document(f"Models: {page['pipeline']}", body)


def _root() -> str:
    from ml_lifecycle.ui.urls import api_root_path

    return api_root_path()


def no_pipelines_page() -> str:
    return document("Models", "<h1>Models</h1><p class=\"muted\">no pipeline you may read</p>")


def partition_page(info: dict[str, Any]) -> str:
    meta = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in info["metadata"].items())
    files = "".join(f"<tr><td>{escape(f['name'])}</td><td class=\"num\">{f['bytes']:,}</td></tr>" for f in info["files"])
    schema = "".join(f"<tr><td>{escape(name)}</td><td>{escape(kind)}</td></tr>" for name, kind in info["schema"])
    head = "".join(f"<th>{escape(c)}</th>" for c in info["columns"])
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in info["rows"])
    body = (
        f"<h1 id=\"partition\" data-zone=\"{escape(info['zone'])}\" data-ds=\"{escape(info['ds'])}\">"
        f"{escape(info['zone'])}/{escape(info['pipeline'])}/ds={escape(info['ds'])}</h1>"
        f"<div class=\"muted\">{escape(info['path'])} · <span id=\"row-count\">{info['row_count']:,}</span> rows</div>"
        f"<h2>Published with (_SUCCESS)</h2><table id=\"metadata\">{meta}</table>"
        f"<h2>Files</h2><table id=\"files\"><tr><th>file</th><th>bytes</th></tr>{files}</table>"
        f"<h2>Schema</h2><table id=\"schema\"><tr><th>column</th><th>type</th></tr>{schema}</table>"
        f"<h2>First {len(info['rows'])} rows</h2><table id=\"sample\"><tr>{head}</tr>{rows}</table>"
    )
    return document(f"{info['zone']}/{info['pipeline']}/ds={info['ds']}", body)
