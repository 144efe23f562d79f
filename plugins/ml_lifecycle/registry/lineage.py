"""A model version's lineage, from the registry: data, code, Airflow run, gate verdict and alias moves.

``ml-lifecycle lineage --pipeline churn [--version N]`` prints it (default: the champion).
"""

from __future__ import annotations

import json
from typing import Any

from ml_lifecycle.exceptions import LineageError
from ml_lifecycle.registry.aliases import alias_history
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget


def version_lineage(spec: PipelineSpec, target: TrackingTarget, version: str | None = None) -> dict[str, Any]:
    """Everything recorded about one version; ``version`` None means the one behind ``champion``."""
    from mlflow.exceptions import MlflowException

    client = target.activate()
    name = spec.model.registered_name
    try:
        mv = (client.get_model_version(name, str(version)) if version
              else client.get_model_version_by_alias(name, "champion"))
    except MlflowException as exc:
        raise LineageError(f"{name}: no version {version or '@champion'} in the registry") from exc
    tags = dict(mv.tags)
    run = client.get_run(mv.run_id) if mv.run_id else None
    metrics = run.data.metrics if run else {}
    moves = [e for e in alias_history(spec, target, None)
             if str(mv.version) in (e["from_version"], e["to_version"])]
    return {
        "model_name": name,
        "version": str(mv.version),
        "aliases": sorted(mv.aliases),
        "run_id": mv.run_id,
        "source": mv.source,
        "pipeline": tags.get("pipeline"),
        "spec_hash": tags.get("spec_hash"),
        "code_version": tags.get("code_version"),
        "libraries": {k[4:]: v for k, v in sorted(tags.items()) if k.startswith("lib.")},
        "airflow": {k[8:]: v for k, v in sorted(tags.items()) if k.startswith("airflow.")},
        "training_as_of": tags.get("training_as_of"),
        "train_rows": tags.get("train_rows"),
        "data_partitions": [p for p in tags.get("data_partitions", "").split(",") if p],
        "data_versions": dict(item.split(":", 1) for item in tags.get("data_versions", "").split(",") if ":" in item),
        "validation_summary": tags.get("validation_summary"),
        "holdout_metrics": {k[8:]: round(v, 4) for k, v in sorted(metrics.items()) if k.startswith("holdout_")},
        "gate": {
            "decision": tags.get("gate.decision"),
            "reasons": json.loads(tags["gate.reasons"]) if tags.get("gate.reasons", "").startswith("[") else [],
            "failed_checks": tags.get("gate.failed_checks"),
            "judged_at": tags.get("gate.judged_at"),
            "forced": tags.get("gate.forced") == "true",
        },
        "alias_moves": moves,
    }


def format_lineage(lineage: dict[str, Any]) -> str:
    out = [f"{lineage['model_name']} v{lineage['version']}  aliases: {', '.join(lineage['aliases']) or 'none'}",
           f"  pipeline        {lineage['pipeline']}  (spec hash {lineage['spec_hash']})",
           f"  code version    {lineage['code_version']}",
           f"  libraries       {', '.join(f'{k} {v}' for k, v in lineage['libraries'].items())}",
           "  airflow         " + ", ".join(f"{k}={v}" for k, v in lineage["airflow"].items() if k != "task_url"),
           f"  mlflow run      {lineage['run_id']}",
           f"  trained as of   {lineage['training_as_of']} on {lineage['train_rows']} rows",
           f"  validation      {lineage['validation_summary']}",
           f"  data            {len(lineage['data_partitions'])} partitions:"]
    out += [f"    {d}  {v}" for d, v in sorted(lineage["data_versions"].items())]
    out.append("  holdout         " + ", ".join(f"{k} {v}" for k, v in lineage["holdout_metrics"].items()))
    gate = lineage["gate"]
    out.append(f"  gate            {gate['decision']}{' (forced)' if gate['forced'] else ''} at {gate['judged_at']}")
    out += [f"    - {r}" for r in gate["reasons"]]
    out.append("  alias moves:")
    out += [f"    {e['at']}  {e['alias']:<10} v{e['from_version']} -> v{e['to_version']}  {e['action']} by {e['actor']}: "
            f"{e['reason']}" for e in lineage["alias_moves"]] or ["    none"]
    return "\n".join(out)
