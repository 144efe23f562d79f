"""Judging a candidate and promoting it: the smoke test, the recorded verdict and the move of ``champion``.

Aliases, not stages: ``champion`` is what scoring loads; ``challenger`` marks the candidate under
judgement, set here (and only here) before the gate's smoke test. Only PROMOTE moves ``champion``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ml_lifecycle.contracts import Evaluation, GateResult, PublishResult, RecordedVerdict, TrainingWindow
from ml_lifecycle.exceptions import ChampionMoved, RegistryError, RegistryUnavailable
from ml_lifecycle.lake import Lake, gate_verdict_file
from ml_lifecycle.registry.aliases import _current, _drop_alias, set_alias, unreachable
from ml_lifecycle.registry.gate import Verdict, judge
from ml_lifecycle.registry.model_card import write_model_card
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget
from ml_lifecycle.training import smoke_sample


def nominate_challenger(spec: PipelineSpec, target: TrackingTarget, version: str, *, actor: str,
                        lineage: dict[str, str] | None = None) -> bool:
    """Point ``challenger`` at the candidate under judgement (the one place that does); False if it already was."""
    client = target.activate()
    if _current(client, spec.model.registered_name, "challenger") == str(version):
        return False
    set_alias(spec, target, "challenger", str(version), action="candidate", actor=actor,
              reason="candidate under judgement", lineage=lineage)
    return True


def judge_candidate(spec: PipelineSpec, lake: Lake, target: TrackingTarget, *, window: TrainingWindow,
                    evaluation: Evaluation, actor: str, lineage: dict[str, str],
                    force_reason: str | None = None) -> GateResult:
    """The gate step: nominate the candidate, smoke-test it from ``@challenger``, judge, record and explain.

    Writes the verdict (version tags, ``gate/verdict.json``), the model card and the gate report
    (``reports/<p>/gate/ds=<as_of>/v<N>.json``); never moves ``champion`` (publishing does).
    """
    version = str(evaluation["candidate_version"])
    nominate_challenger(spec, target, version, actor=actor, lineage=lineage)
    passed, detail = smoke_test(spec, target, version, smoke_sample(spec, window["holdout_path"]), alias="challenger")
    verdict = judge(spec, evaluation, smoke_test_passed=passed, force_reason=force_reason)
    recorded = record_verdict(spec, target, verdict, evaluation=evaluation)
    approval_required = spec.approval == "required" and verdict.decision == "PROMOTE"
    card = write_model_card(spec, lake, target, evaluation=evaluation,
                            gate={**recorded, "smoke_test": detail, "approval_required": approval_required})
    report = lake.report_dir(spec.name, "gate", window["as_of"]) / gate_verdict_file(version)
    result: GateResult = {**recorded, "smoke_test": detail, "approval_required": approval_required,
                          "model_card": card["markdown"], "model_card_html": card["html"], "report_path": str(report)}
    lake.write_json(report, {**result, "checks": verdict.checks, "difference": evaluation.get("difference")})
    return result


def smoke_test(spec: PipelineSpec, target: TrackingTarget, version: str, sample: Any, *,
               alias: str | None = None) -> tuple[bool, str]:
    """Load the model through its registry URI as pyfunc and score a sample, as a consumer would.

    With ``alias`` the URI is ``models:/<name>@<alias>`` and the alias must point at ``version``.
    """
    import mlflow
    import numpy as np

    client = target.activate()
    name = spec.model.registered_name
    uri = f"models:/{name}/{version}"
    try:
        if alias is not None:
            behind = str(client.get_model_version_by_alias(name, alias).version)
            if behind != str(version):
                return False, f"{uri.replace(f'/{version}', f'@{alias}')} is v{behind}, not v{version}"
            uri = f"models:/{name}@{alias}"
        model = mlflow.pyfunc.load_model(uri)
        scores = np.asarray(model.predict(sample))
    except Exception as exc:  # any failure to load or predict is a reason to refuse the model ...
        if unreachable(exc):  # ... except an outage, which says nothing about the model
            raise RegistryUnavailable(
                f"MLflow at {target.tracking_uri} is unreachable while smoke-testing {uri}; nothing was changed "
                f"({type(exc).__name__}: {str(exc)[:300]})"
            ) from exc
        return False, f"{type(exc).__name__}: {exc}"
    if scores.shape[0] != len(sample) or not np.all(np.isfinite(scores)):
        return False, f"predict returned {scores.shape[0]} values for {len(sample)} rows or non-finite scores"
    return True, "ok"


def record_verdict(spec: PipelineSpec, target: TrackingTarget, verdict: Verdict, *,
                   evaluation: Evaluation | None = None) -> RecordedVerdict:
    """Store the verdict on the candidate: version tags and a ``gate/verdict.json`` run artifact."""
    client = target.activate()
    name = spec.model.registered_name
    version = verdict.candidate_version
    now = datetime.now(UTC).isoformat()
    tags = {
        "gate.decision": verdict.decision,
        "gate.reasons": json.dumps(verdict.reasons)[:4900],
        "gate.failed_checks": ",".join(k for k, ok in verdict.checks.items() if not ok) or "none",
        "gate.judged_at": now,
        "gate.judged_against": verdict.champion_version or "none",
    }
    if verdict.forced:
        tags |= {"gate.forced": "true", "gate.force_reason": str(verdict.force_reason)[:4900],
                 "gate.judged_decision": str(verdict.judged_decision)}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    run_id = client.get_model_version(name, version).run_id
    if run_id:
        payload = {"verdict": verdict.to_dict(), "judged_at": now, "policy": spec.gate.model_dump(mode="json")}
        if evaluation is not None:
            payload["evaluation"] = {k: evaluation.get(k) for k in
                                     ("candidate", "champion", "difference", "latency", "model_bytes", "holdout_rows")}
        client.log_dict(run_id, payload, "gate/verdict.json")
    return {
        "model_name": name,
        "decision": verdict.decision,
        "candidate_version": version,
        "champion_version": verdict.champion_version,
        "previous_champion": verdict.champion_version,
        "reasons": verdict.reasons,
        "failed_checks": [k for k, ok in verdict.checks.items() if not ok],
        "forced": verdict.forced,
        "judged_decision": verdict.judged_decision or verdict.decision,
        "judged_at": now,
    }


def _move_champion(spec: PipelineSpec, target: TrackingTarget, version: str, *, expected_current: str | None,
                   action: str, actor: str, reason: str, lineage: dict[str, str]) -> dict[str, Any]:
    client = target.activate()
    name = spec.model.registered_name
    current = _current(client, name, "champion")
    if current != expected_current:
        raise ChampionMoved(
            f"{name}: champion is v{current or 'none'} now but the candidate was judged against "
            f"v{expected_current or 'none'}; re-run the evaluation"
        )
    event = set_alias(spec, target, "champion", version, action=action, actor=actor, reason=reason, lineage=lineage)
    now = event["at"]
    client.set_model_version_tag(name, version, "champion.since", now)
    client.set_model_version_tag(name, version, "champion.promoted_by", actor)
    client.set_model_version_tag(name, version, "champion.previous", current or "none")
    client.set_model_version_tag(name, version, "champion.action", action)
    for key, value in lineage.items():
        client.set_model_version_tag(name, version, f"promotion.{key}", value)
    if current:
        client.set_model_version_tag(name, current, "champion.until", now)
    _drop_alias(spec, target, "challenger", version, actor=actor, reason=f"v{version} became champion")
    return {"champion_version": version, "previous_champion": current, "event": event}


def publish(spec: PipelineSpec, target: TrackingTarget, gate_result: GateResult, *, holdout_path: str,
            actor: str, lineage: dict[str, str], approved_by: str | None = None) -> PublishResult:
    """Move ``champion`` to a candidate the gate promoted, after a smoke test from ``@challenger`` on holdout rows."""
    version = str(gate_result["candidate_version"])
    if gate_result["decision"] != "PROMOTE":
        raise RegistryError(f"v{version} was not promoted by the gate ({gate_result['decision']})")
    passed, detail = smoke_test(spec, target, version, smoke_sample(spec, holdout_path), alias="challenger")
    if not passed:
        raise RegistryError(f"v{version} failed the load-and-predict smoke test from @challenger: {detail}")
    action = "forced_promote" if gate_result.get("forced") else "promote"
    why = f"gate {'PROMOTE (forced)' if gate_result.get('forced') else 'PROMOTE'}: " + _headline(gate_result["reasons"])
    if approved_by:
        why = f"approved by {approved_by}; {why}"
    moved = _move_champion(spec, target, version, expected_current=gate_result["champion_version"], action=action,
                           actor=actor, reason=why, lineage=lineage)
    return {"decision": "PROMOTE", "candidate_version": version, "champion_version": version,
            "previous_champion": moved["previous_champion"], "action": action, "at": moved["event"]["at"],
            "approved_by": approved_by}


def apply_verdict(
    spec: PipelineSpec, target: TrackingTarget, verdict: Verdict, *, actor: str, lineage: dict[str, str]
) -> dict[str, Any]:
    """Record the verdict and, on PROMOTE, move ``champion`` (one step: gate and publish without approval)."""
    previous = verdict.champion_version
    if verdict.decision == "PROMOTE":  # refuse a stale verdict before recording it on the version
        current = _current(target.activate(), spec.model.registered_name, "champion")
        if current != previous:
            raise ChampionMoved(
                f"{spec.model.registered_name}: champion is v{current or 'none'} now but the candidate was "
                f"judged against v{previous or 'none'}; re-run the evaluation"
            )
    recorded = record_verdict(spec, target, verdict)
    if verdict.decision == "PROMOTE":
        _move_champion(spec, target, verdict.candidate_version, expected_current=previous,
                       action="forced_promote" if verdict.forced else "promote", actor=actor,
                       reason=f"gate PROMOTE: {_headline(verdict.reasons)}", lineage=lineage)
    return {
        "decision": verdict.decision,
        "candidate_version": verdict.candidate_version,
        "champion_version": verdict.candidate_version if verdict.decision == "PROMOTE" else previous,
        "previous_champion": previous,
        "reasons": recorded["reasons"],
    }


def _headline(reasons: list[str]) -> str:
    """The reason that compares with the champion (or says there is none), else the last one."""
    for reason in reasons:
        if "vs champion" in reason or "no champion yet" in reason or reason.startswith("FORCED"):
            return reason
    return reasons[-1] if reasons else ""
