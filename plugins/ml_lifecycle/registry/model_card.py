"""A model card per registered version, in Markdown and HTML, written when the gate has judged it.

Kept in ``reports/<pipeline>/model_cards/v<N>.{md,html}`` and logged to the version's run
(``model_card/``). The content comes from the version's lineage tags, the evaluation and the verdict.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml_lifecycle.lake import Lake, model_card_files
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

Block = tuple[str, Any]  # ("p", text) | ("ul", [items]) | ("table", (header, rows))
Section = tuple[str, list[Block]]


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def build_card(spec: PipelineSpec, tags: dict[str, str], evaluation: Mapping[str, Any],
               gate: Mapping[str, Any]) -> tuple[str, list[Section]]:
    version = str(evaluation["candidate_version"])
    primary = spec.gate.primary_metric
    partitions = [p for p in tags.get("data_partitions", "").split(",") if p]
    title = f"{spec.model.registered_name} v{version}: model card"
    sections: list[Section] = []
    sections.append(("Intended use", [
        ("p", spec.description or f"The {spec.name} pipeline's classifier."),
        ("p", f"Scores each day's validated `{spec.name}` partition in batch (`{spec.name}_daily`); a score at or "
              f"above {spec.decision_threshold} means the positive class `{spec.target.positive_class}` of "
              f"`{spec.target.column}`. Not meant for individual decisions without human review, nor for "
              "populations outside the training data."),
    ]))
    sections.append(("Owner", [("p", f"{spec.owner} (pipeline `{spec.name}`, spec hash `{tags.get('spec_hash')}`)")]))
    window = [
        f"trained as of {tags.get('training_as_of')} on {tags.get('train_rows')} labelled rows from "
        f"{len(partitions)} validated partitions ({partitions[0] if partitions else '?'} .. "
        f"{partitions[-1] if partitions else '?'})",
        f"holdout: {evaluation.get('holdout_rows')} rows (the most recent days of the window), positive rate "
        f"{evaluation.get('holdout_positive_rate')}",
        f"validation: {tags.get('validation_summary', 'n/a')}",
        f"code version `{tags.get('code_version')}`; scikit-learn {tags.get('lib.sklearn')}, MLflow "
        f"{tags.get('lib.mlflow')}, Python {tags.get('lib.python')}",
        f"Airflow: `{tags.get('airflow.dag_id')}` run `{tags.get('airflow.run_id')}`; MLflow run `{tags.get('run_id')}`",
    ]
    versions = [item.split(":", 1) for item in tags.get("data_versions", "").split(",") if ":" in item]
    sections.append(("Training window and data versions", [
        ("ul", window), ("table", (["partition", "data version (sha256, 12)"], versions)),
    ]))
    champion = evaluation.get("champion") or {}
    metric_rows = [[m, _fmt(v), _fmt(champion.get(m))] for m, v in evaluation["candidate"].items()]
    blocks: list[Block] = [("table", (["metric", f"v{version}", f"champion v{evaluation.get('champion_version') or '-'}"],
                                      metric_rows))]
    diff = evaluation.get("difference")
    if diff:
        blocks.append(("p", f"{primary} difference to the champion on the same rows: {diff['delta']:+.4f}, "
                            f"{diff['confidence']:.0%} CI [{diff['low']:+.4f}, {diff['high']:+.4f}] "
                            f"({diff['resamples']} paired bootstrap resamples)"))
    latency = evaluation.get("latency") or {}
    blocks.append(("p", f"Serving: {latency.get('rows', '?')} rows predicted in {latency.get('predict_ms', '?')} ms "
                        f"after loading from the registry; model artifact {evaluation.get('model_bytes', 0) / 1e6:.2f} MB."))
    sections.append(("Metrics (holdout)", blocks))
    slice_rows = []
    for entry in evaluation.get("slices", []):
        cand = (entry.get("candidate") or {}).get(primary)
        champ = (entry.get("champion") or {}).get(primary)
        d = entry.get("difference")
        ci = f"{d['delta']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]" if d else entry.get("note", "")
        slice_rows.append([entry["slice"], entry["rows"], entry["positives"], _fmt(cand), _fmt(champ), ci])
    sections.append((f"Metrics per slice ({primary})", [
        ("table", (["slice", "rows", "positives", f"v{version}", "champion", "delta [CI]"], slice_rows)),
    ]))
    sections.append(("Calibration (holdout)", [
        ("table", (["score bin", "rows", "mean score", "observed rate"],
                   [[f"{b['bin_low']:.1f}-{b['bin_high']:.1f}", b["rows"], b["mean_score"], b["observed_rate"]]
                    for b in evaluation.get("calibration", [])])),
    ]))
    verdict = [("p", f"**{gate['decision']}**" + (f" (forced; the gate said {gate.get('judged_decision')})"
                                                   if gate.get("forced") else "")),
               ("ul", list(gate["reasons"]))]
    sections.append(("Gate verdict", verdict))
    sections.append(("Known limitations", [("ul", _limitations(spec, evaluation))]))
    return title, sections


def _limitations(spec: PipelineSpec, evaluation: Mapping[str, Any]) -> list[str]:
    items = []
    if spec.simulation is not None:
        items.append(f"trained on a public table replayed as daily files ({spec.simulation.dataset}), "
                     "not on production traffic")
    items.append(f"judged on {evaluation.get('holdout_rows')} holdout rows from the most recent days only; "
                 "intervals are wide on small holdouts")
    small = [e["slice"] for e in evaluation.get("slices", [])
             if e["rows"] < spec.gate.slice_min_rows or "difference" not in e]
    if small:
        items.append(f"slices too small or without a champion comparison, not judged by the gate: {', '.join(small)}")
    gaps = [abs(b["mean_score"] - b["observed_rate"]) for b in evaluation.get("calibration", []) if b["rows"] >= 20]
    if gaps:
        items.append(f"largest calibration gap in a bin of 20+ rows: {max(gaps):.3f} (scores are not exact probabilities)")
    items.append("labels arrive late, so the most recent days never reach the training window; drift after "
                 "training is watched by the daily drift check")
    return items


def render_markdown(title: str, sections: list[Section]) -> str:
    out = [f"# {title}", ""]
    for heading, blocks in sections:
        out += [f"## {heading}", ""]
        for kind, content in blocks:
            if kind == "p":
                out += [content, ""]
            elif kind == "ul":
                out += [f"- {item}" for item in content] + [""]
            elif kind == "table":
                header, rows = content
                if rows:
                    out.append("| " + " | ".join(header) + " |")
                    out.append("|" + "---|" * len(header))
                    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
                    out.append("")
    return "\n".join(out)


def render_html(title: str, sections: list[Section]) -> str:
    def inline(text: str) -> str:
        escaped = html.escape(str(text))
        parts = escaped.split("`")
        escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
        parts = escaped.split("**")
        return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))

    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, blocks in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for kind, content in blocks:
            if kind == "p":
                body.append(f"<p>{inline(content)}</p>")
            elif kind == "ul":
                body.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in content) + "</ul>")
            elif kind == "table":
                header, rows = content
                if rows:
                    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
                    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                                    for row in rows)
                    body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_model_card(spec: PipelineSpec, lake: Lake, target: TrackingTarget, *, evaluation: Mapping[str, Any],
                     gate: Mapping[str, Any]) -> dict[str, str]:
    """Write the card of the evaluated version to the lake and log it to the version's run."""
    client = target.activate()
    version = str(evaluation["candidate_version"])
    mv = client.get_model_version(spec.model.registered_name, version)
    title, sections = build_card(spec, dict(mv.tags), evaluation, gate)
    markdown_path, page_path = card_paths(spec, lake, version)
    md = lake.write_text(markdown_path, render_markdown(title, sections))
    page = lake.write_text(page_path, render_html(title, sections))
    if mv.run_id:
        for path in (md, page):
            client.log_artifact(mv.run_id, str(path), artifact_path="model_card")
    return {"markdown": str(md), "html": str(page)}


def card_folder(spec: PipelineSpec, lake: Lake) -> Path:
    """Where the cards are: plain files of the lake (read them with :meth:`Lake.fetch_file`)."""
    return lake.zone_dir("reports", spec.name) / "model_cards"


def card_paths(spec: PipelineSpec, lake: Lake, version: str) -> tuple[Path, Path]:
    folder = card_folder(spec, lake)
    markdown, page = model_card_files(version)
    return folder / markdown, folder / page
