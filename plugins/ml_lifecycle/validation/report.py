"""The validation report as a self-contained HTML page (the JSON twin is written by the routing step).
"""

from __future__ import annotations

import html
import json
from typing import Any

from ml_lifecycle.validation.gx_run import ValidationOutcome
from ml_lifecycle.validation.results import _ordered, _result_row
from ml_lifecycle.validation.suite import SEVERITY_ERROR, SEVERITY_WARN

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.4rem;margin-bottom:.3rem}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;font-weight:600;color:#fff}
.pass{background:#1a7f37}.fail{background:#cf222e}.warn{background:#9a6700}
.summary{margin:.8rem 0 1.2rem;color:#57606a}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.failed-error td{background:#ffebe9}tr.failed-warn td{background:#fff8c5}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.82rem;white-space:pre-wrap;word-break:break-word}
"""


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_html(outcome: ValidationOutcome, *, title: str) -> str:
    """A self-contained HTML page: verdict, counts, and one table row per expectation."""
    rows = [_result_row(r) for r in outcome.gx_result.get("results", [])]
    rank = {(False, SEVERITY_ERROR): 0, (False, SEVERITY_WARN): 1}
    rows = sorted(_ordered(rows), key=lambda r: rank.get((r["success"], r["severity"]), 2))
    if not outcome.success:
        badge = '<span class="badge fail">FAILED</span>'
    elif outcome.failed_warnings:
        badge = '<span class="badge warn">PASSED WITH WARNINGS</span>'
    else:
        badge = '<span class="badge pass">PASSED</span>'
    body = []
    for r in rows:
        status = "pass" if r["success"] else "FAIL"
        css = "" if r["success"] else f' class="failed-{r["severity"]}"'
        params = {k: v for k, v in r["kwargs"].items() if k != "column"}
        body.append(
            f"<tr{css}><td>{status}</td><td>{html.escape(r['severity'])}</td>"
            f"<td><code>{html.escape(str(r['expectation']))}</code></td>"
            f"<td>{html.escape(r['column'] or '')}</td>"
            f"<td><code>{html.escape(_short(params) if params else '')}</code></td>"
            f"<td><code>{html.escape(_short(r['observed']))}</code></td></tr>"
        )
    passed = outcome.evaluated - len(outcome.failed_errors) - len(outcome.failed_warnings)
    meta = outcome.gx_result.get("meta") or {}
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<div>{badge}</div>\n"
        f'<p class="summary">{outcome.rows} rows &middot; {outcome.evaluated} expectations &middot; '
        f"{passed} passed &middot; {len(outcome.failed_errors)} failed (error) &middot; "
        f"{len(outcome.failed_warnings)} failed (warn) &middot; Great Expectations "
        f"{html.escape(str(meta.get('great_expectations_version', '')))}</p>\n"
        "<table><thead><tr><th>Result</th><th>Severity</th><th>Expectation</th><th>Column</th>"
        "<th>Parameters</th><th>Observed</th></tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>\n</body></html>\n"
    )
