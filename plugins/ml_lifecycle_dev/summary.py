"""What the demo prints at the end: what happened to the data, the models and the tasks."""

from __future__ import annotations

import json
import statistics
from typing import TYPE_CHECKING, Any

from ml_lifecycle.lake import Lake, drift_verdicts, quarantine_reason, quarantined_rows
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

if TYPE_CHECKING:
    from ml_lifecycle_dev.demo import DemoLog


def collect_summary(spec: PipelineSpec, lake: Lake, log: DemoLog, elapsed: float) -> dict[str, Any]:

    name = spec.model.registered_name
    validated = lake.partitions("validated", spec.name)
    quarantined = lake.partitions("quarantine", spec.name)
    rows_quarantined = sum(quarantined_rows(lake, spec.name, d) for d in quarantined)
    predictions = lake.partitions("predictions", spec.name)
    drift_days = [d for d, report in drift_verdicts(lake, spec.name).items() if report["dataset_drift"]]
    client = TrackingTarget.from_env().activate()
    versions = []
    for mv in sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)):
        run = client.get_run(mv.run_id) if mv.run_id else None
        metrics = run.data.metrics if run else {}
        versions.append({
            "version": str(mv.version),
            "trained_as_of": mv.tags.get("training_as_of"),
            "decision": mv.tags.get("gate.decision"),
            "forced": mv.tags.get("gate.forced") == "true",
            "reasons": json.loads(mv.tags.get("gate.reasons") or "[]"),
            "roc_auc": metrics.get("holdout_roc_auc"),
            "pr_auc": metrics.get("holdout_pr_auc"),
            "aliases": sorted(client.get_model_version(name, mv.version).aliases),
            "data_versions": len(mv.tags.get("data_versions", "").split(",")) if mv.tags.get("data_versions") else 0,
            "airflow_run_id": mv.tags.get("airflow.run_id"),
        })
    from ml_lifecycle.registry import champion_version

    current = champion_version(spec, TrackingTarget.from_env())
    champion = next((v for v in versions if current and v["version"] == current["version"]), None)
    from ml_lifecycle.registry import alias_history

    history = alias_history(spec, TrackingTarget.from_env(), "champion")
    return {
        "days_ingested": len(lake.partitions("raw", spec.name)),
        "days_validated": len(validated),
        "rows_validated": sum(lake.partition_metadata("validated", spec.name, d).get("rows", 0) for d in validated),
        "days_quarantined": quarantined,
        "rows_quarantined": rows_quarantined,
        "validation_failures": log.failures,
        "quarantine_reasons": {d: _quarantine_reason(lake, spec.name, d) for d in quarantined},
        "predictions_days": len(predictions),
        "predictions_rows": sum(lake.partition_metadata("predictions", spec.name, d).get("rows", 0) for d in predictions),
        "drift_days": drift_days,
        "retraining_requests": log.retraining_requests,
        "trainings": log.trainings,
        "model_versions": versions,
        "champion": champion,
        "alias_history": history,
        "realized": _realized(spec, lake),
        "first_drift_day": drift_days[0] if drift_days else None,
        "registry_actions": log.registry_actions,
        "task_overhead": task_overhead([f"{spec.name}_daily", f"{spec.name}_training", f"{spec.name}_rollback"]),
        "elapsed_seconds": round(elapsed, 1),
    }


def _realized(spec: PipelineSpec, lake: Lake) -> dict[str, Any] | None:
    """Realized performance per model version over the month, from the newest performance report."""
    from ml_lifecycle.monitoring import latest_performance

    days = lake.reports(spec.name, "performance")
    report = latest_performance(spec, lake, up_to=days[-1]) if days else None
    if not report:
        return None
    return {"as_of": days[-1], "by_version": report.get("by_version") or {}, "window": report.get("window") or {}}


def _quarantine_reason(lake: Lake, pipeline: str, ds: str) -> str:
    """The failing expectations of a quarantined day, as validation wrote them next to the rejected rows."""
    from ml_lifecycle.validation import describe_failures

    reason = quarantine_reason(lake, pipeline, ds) or {}
    return describe_failures(reason.get("failed", [])) or "see the validation report"


def task_overhead(dag_ids: list[str]) -> dict[str, Any]:
    """Task wall time from the Airflow metadata DB minus the core work the task reported in XCom."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    overheads, walls = [], []
    with create_session() as session:
        core: dict[tuple[str, str, str], float] = {}
        for row in session.query(XComModel).filter(XComModel.dag_id.in_(dag_ids), XComModel.key == "return_value"):
            value = XComModel.deserialize_value(row)
            if isinstance(value, dict) and "core_seconds" in value:
                core[(row.dag_id, row.run_id, row.task_id)] = float(value["core_seconds"])
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id.in_(dag_ids), TaskInstance.state == "success"):
            key = (ti.dag_id, ti.run_id, ti.task_id)
            if key in core and ti.start_date and ti.end_date:
                wall = (ti.end_date - ti.start_date).total_seconds()
                walls.append(wall)
                overheads.append(wall - core[key])
    if not overheads:
        return {"tasks": 0}
    return {
        "tasks": len(overheads),
        "median_wall_s": round(statistics.median(walls), 3),
        "median_overhead_s": round(statistics.median(overheads), 3),
        "p90_overhead_s": round(sorted(overheads)[int(0.9 * (len(overheads) - 1))], 3),
        "total_overhead_s": round(sum(overheads), 1),
        "total_wall_s": round(sum(walls), 1),
    }


def print_summary(summary: dict[str, Any]) -> None:
    line = "=" * 78
    print(line)
    print("Demo summary")
    print(line)
    print(f"days ingested            {summary['days_ingested']}")
    print(f"rows validated           {summary['rows_validated']} in {summary['days_validated']} partitions")
    print(f"rows quarantined         {summary['rows_quarantined']} (days: {', '.join(summary['days_quarantined']) or 'none'})")
    for ds, what in summary["validation_failures"].items():
        print(f"  {ds}: {what}")
    for ds, why in summary.get("quarantine_reasons", {}).items():
        print(f"  {ds} quarantined: {why}")
    print(f"predictions written      {summary['predictions_rows']} rows in {summary['predictions_days']} partitions")
    print(f"days with drift          {len(summary['drift_days'])}: {', '.join(summary['drift_days']) or 'none'}")
    requests = summary["retraining_requests"]
    print(f"retraining requested     {'yes, on ' + ', '.join(requests) if requests else 'no'}")
    print("trainings:")
    for t in summary["trainings"]:
        print(f"  {t['ds']} {t['reason']:<34} -> v{t.get('candidate_version', '?')} {t.get('decision', t['state'])}")
    print("model versions:")
    for v in summary["model_versions"]:
        auc = f"{v['roc_auc']:.3f}" if v["roc_auc"] is not None else "n/a"
        pr = f"{v['pr_auc']:.3f}" if v["pr_auc"] is not None else "n/a"
        print(f"  v{v['version']:<3} as of {v['trained_as_of']}  holdout ROC AUC {auc}  PR AUC {pr}  "
              f"gate {v['decision']}{' (forced)' if v['forced'] else ''}  "
              f"{'[' + ', '.join(v['aliases']) + ']' if v['aliases'] else ''}")
        for reason in v["reasons"]:
            print(f"         - {reason}")
    champion = summary["champion"]
    print(f"champion                 {'v' + champion['version'] + ' (ROC AUC ' + format(champion['roc_auc'], '.3f') + ')' if champion else 'none'}")
    print("champion alias history:")
    for e in summary["alias_history"]:
        print(f"  {e['at'][:19]}  {'v' + e['from_version'] if e['from_version'] != 'none' else '-':<5} -> "
              f"{'v' + e['to_version'] if e['to_version'] != 'none' else '-':<5} {e['action']:<14} "
              f"by {e['actor']}: {e['reason'][:70]}")
    overhead = summary["task_overhead"]
    if overhead.get("tasks"):
        realized = summary.get("realized")
    if realized:
        print(f"realized performance     labels joined to predictions, as of {realized['as_of']}:")
        for version, m in sorted(realized["by_version"].items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
            auc = f"{m['roc_auc']:.3f}" if m.get("roc_auc") is not None else "n/a"
            print(f"  v{version:<3} {m.get('rows', 0):>5} labelled rows  ROC AUC {auc}  "
                  f"positive rate {m.get('positive_rate', 0):.2f}")
        window = realized["window"]
        if window.get("roc_auc") is not None:
            print(f"  last {window.get('from')}..{window.get('to')}: ROC AUC {window['roc_auc']:.3f} "
                  f"over {window.get('rows')} rows")
    print(f"tasks                    {overhead['tasks']} run by Airflow; median wall {overhead['median_wall_s']}s, "
              f"median overhead (wall - core) {overhead['median_overhead_s']}s, p90 {overhead['p90_overhead_s']}s")
    print(f"elapsed                  {summary['elapsed_seconds']}s")
    print(line)
    print("Look at the same data in the UIs (each command serves until Ctrl-C):")
    print("  Airflow UI:  make airflow-ui   -> http://localhost:8080  (DAGs churn_daily, churn_training, churn_rollback)")
    print("  MLflow UI:   make mlflow-ui    -> http://localhost:5000  (model churn_classifier, aliases)")
    print(line)
