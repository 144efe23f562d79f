"""The promotion gate and the MLflow aliases it moves.

Aliases, not stages: ``champion`` is what scoring loads; ``challenger`` marks the latest candidate.
The gate's verdict is PROMOTE, HOLD or REJECT with every reason; only PROMOTE moves ``champion``.

The policy (``gate:`` in the pipeline spec), judged on the evaluation of evaluation.evaluate_candidate:
- **floors**: every listed metric must meet its floor (REJECT otherwise);
- **smoke test**: the candidate loads from ``models:/<name>@challenger`` and predicts (REJECT otherwise);
- **budgets**: predicting 10k rows within ``max_latency_ms_10k``, the model artifact within
  ``max_model_bytes`` (REJECT otherwise);
- **against the champion**, on the paired-bootstrap confidence interval [low, high] of
  (challenger - champion) on the primary metric, same holdout rows:
  REJECT when ``high < -max_regression`` (credibly worse by more than the allowed drop);
  HOLD when the point estimate is below 0 (not better on these rows: the champion keeps its place),
  or, with ``require_credible_improvement``, when ``low <= 0``; PROMOTE otherwise;
- **slices**: the same REJECT rule with ``slice_max_regression`` for every value of ``spec.slices``
  with at least ``slice_min_rows`` holdout rows and both classes;
- **first model** (no champion): PROMOTE on floors, smoke test and budgets (``first_model: floors``),
  or HOLD until someone forces or rolls forward (``first_model: hold``).
A force (trigger Param ``force_reason``) turns HOLD or REJECT into PROMOTE, recorded as forced with its
reason; it cannot override a failed smoke test, because a model that does not load must never serve.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ml_lifecycle.registry_events import alias_history, champion_at, record_alias_move
from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

__all__ = [
    "ChampionMoved", "RegistryError", "Verdict", "alias_history", "apply_verdict", "champion_at", "judge",
    "publish", "record_verdict", "rollback", "set_alias", "smoke_test",
]

Decision = Literal["PROMOTE", "HOLD", "REJECT"]
LOWER_IS_BETTER = {"log_loss", "brier"}
MIN_REASON_CHARS = 10


class ChampionMoved(RuntimeError):
    """The champion changed between evaluation and promotion: the verdict compared the wrong model."""


class RegistryError(ValueError):
    """A registry action that cannot be done as asked (unknown version, missing reason, ...)."""


class RegistryUnavailable(ConnectionError):
    """MLflow could not be reached; nothing was changed, and the same call can be retried as it is."""


_UNREACHABLE_SIGNS = ("Connection refused", "Failed to establish a new connection", "Max retries exceeded",
                      "Connection reset", "Name or service not known", "timed out")


def unreachable(exc: BaseException) -> bool:
    """Whether an MLflow client error means the server was not reached (as opposed to a refusal or a bad model).

    The REST client wraps the transport error in an ``MlflowException`` whose message keeps the cause's
    text, so both the exception chain and the message are looked at.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError | TimeoutError):
            return True
        if type(seen).__name__ in {"ConnectionError", "NewConnectionError", "MaxRetryError", "ConnectTimeout"}:
            return True
        if any(sign in str(seen) for sign in _UNREACHABLE_SIGNS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: list[str]
    candidate_version: str
    champion_version: str | None
    checks: dict[str, bool] = field(default_factory=dict)
    forced: bool = False
    force_reason: str | None = None
    judged_decision: Decision | None = None  # what the rules said, before a force

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- the gate ------------------------------------------------------------------------------------
def judge(spec: PipelineSpec, evaluation: dict[str, Any], *, smoke_test_passed: bool,
          force_reason: str | None = None) -> Verdict:
    """Apply the spec's promotion policy (module docstring) to an evaluation."""
    gate = spec.gate
    candidate: dict[str, float] = evaluation["candidate"]
    champion: dict[str, float] | None = evaluation.get("champion")
    reasons: list[str] = []
    checks: dict[str, bool] = {}

    for metric, floor in sorted(gate.floors.items()):
        value = candidate[metric]
        ok = value <= floor if metric in LOWER_IS_BETTER else value >= floor
        checks[f"floor_{metric}"] = ok
        reasons.append(f"{metric} {value:.4f} {'meets' if ok else 'is below'} the floor {floor:.4f}")

    checks["smoke_test"] = smoke_test_passed
    reasons.append("loads from the registry and predicts" if smoke_test_passed else "failed the load-and-predict smoke test")

    latency = evaluation.get("latency")
    if latency and gate.max_latency_ms_10k is not None:
        ok = latency["predict_ms"] <= gate.max_latency_ms_10k
        checks["latency_budget"] = ok
        reasons.append(f"predicts {latency['rows']} rows in {latency['predict_ms']:.0f} ms "
                       f"({'within' if ok else 'over'} the budget of {gate.max_latency_ms_10k:.0f} ms)")
    size = evaluation.get("model_bytes")
    if size is not None and gate.max_model_bytes is not None:
        ok = size <= gate.max_model_bytes
        checks["size_budget"] = ok
        reasons.append(f"model artifact {size / 1e6:.2f} MB ({'within' if ok else 'over'} the budget of "
                       f"{gate.max_model_bytes / 1e6:.2f} MB)")

    primary = gate.primary_metric
    difference: dict[str, Any] | None = None
    if champion is None:
        rule = "floors, smoke test and budgets only" if gate.first_model == "floors" else "gate.first_model is hold"
        reasons.append(f"no champion yet: the first model is judged on {rule} ({primary} {candidate[primary]:.4f})")
    else:
        delta = candidate[primary] - champion[primary]
        difference = evaluation.get("difference") or {"delta": delta, "low": delta, "high": delta, "resamples": 0,
                                                       "confidence": gate.confidence}
        ok = difference["high"] >= -gate.max_regression - 1e-9  # a drop of exactly the tolerance is allowed
        checks["no_regression"] = ok
        interval = (f", {difference['confidence']:.0%} CI [{difference['low']:+.4f}, {difference['high']:+.4f}] "
                    f"over {difference['resamples']} paired resamples") if difference["resamples"] else ""
        reasons.append(
            f"{primary} {candidate[primary]:.4f} vs champion v{evaluation['champion_version']} "
            f"{champion[primary]:.4f} (delta {delta:+.4f}{interval}, allowed drop {gate.max_regression:.4f})"
            + ("" if ok else ": credibly worse than the allowed drop")
        )
        _judge_slices(spec, evaluation, checks, reasons)

    if not all(checks.values()):
        decision: Decision = "REJECT"
    elif champion is None and gate.first_model == "hold":
        decision = "HOLD"
        reasons.append("first model held by policy: promote it with a force or a rollback to it")
    elif difference is not None and difference["delta"] < 0:
        # Within the tolerance but not better: keep the champion, which has a track record; a worse
        # model is never promoted.
        decision = "HOLD"
        reasons.append("not better than the champion: held")
    elif difference is not None and gate.require_credible_improvement and difference["low"] <= 0:
        decision = "HOLD"
        reasons.append("not credibly better than the champion (the interval includes 0): held")
    else:
        decision = "PROMOTE"

    judged = decision
    forced = False
    if force_reason and decision != "PROMOTE":
        if not smoke_test_passed:
            reasons.append(f"force refused: a model that failed the smoke test is never promoted ({force_reason!r})")
        else:
            decision, forced = "PROMOTE", True
            reasons.append(f"FORCED to PROMOTE (the gate said {judged}): {force_reason}")
    return Verdict(decision, reasons, str(evaluation["candidate_version"]), evaluation.get("champion_version"),
                   checks, forced=forced, force_reason=force_reason if forced else None, judged_decision=judged)


def _judge_slices(spec: PipelineSpec, evaluation: dict[str, Any], checks: dict[str, bool], reasons: list[str]) -> None:
    gate = spec.gate
    if gate.slice_max_regression is None or not evaluation.get("slices"):
        return
    judged, skipped = [], []
    for entry in evaluation["slices"]:
        diff = entry.get("difference")
        if entry["rows"] < gate.slice_min_rows or not diff:
            skipped.append(entry["slice"])
            continue
        judged.append(entry)
        ok = diff["high"] >= -gate.slice_max_regression - 1e-9
        checks[f"slice_{entry['slice']}"] = ok
        if not ok:
            reasons.append(
                f"slice {entry['slice']} ({entry['rows']} rows): {gate.primary_metric} delta {diff['delta']:+.4f}, "
                f"CI [{diff['low']:+.4f}, {diff['high']:+.4f}] lies below the allowed slice drop "
                f"{gate.slice_max_regression:.4f}"
            )
    if judged:
        worst = min(judged, key=lambda e: e["difference"]["delta"])
        reasons.append(
            f"{len(judged)} slices judged (>= {gate.slice_min_rows} rows), worst {worst['slice']} delta "
            f"{worst['difference']['delta']:+.4f}; {len(skipped)} too small or one-class: "
            f"{', '.join(skipped) or 'none'}"
        )


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


# ---- recording and moving aliases ----------------------------------------------------------------
def _current(client: Any, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(spec: PipelineSpec, target: TrackingTarget, alias: str, version: str, *, action: str, actor: str,
              reason: str, lineage: dict[str, str] | None = None) -> dict[str, Any]:
    """Point ``alias`` at ``version`` and record the move in the alias history."""
    client = target.activate()
    name = spec.model.registered_name
    previous = _current(client, name, alias)
    client.set_registered_model_alias(name, alias, str(version))
    return record_alias_move(spec, target, alias=alias, from_version=previous, to_version=str(version),
                             action=action, actor=actor, reason=reason, lineage=lineage)


def _drop_alias(spec: PipelineSpec, target: TrackingTarget, alias: str, version: str, *, actor: str, reason: str) -> None:
    client = target.activate()
    name = spec.model.registered_name
    if _current(client, name, alias) == str(version):
        client.delete_registered_model_alias(name, alias)
        record_alias_move(spec, target, alias=alias, from_version=str(version), to_version=None,
                          action="retired", actor=actor, reason=reason)


def record_verdict(spec: PipelineSpec, target: TrackingTarget, verdict: Verdict, *,
                   evaluation: dict[str, Any] | None = None) -> dict[str, Any]:
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


def publish(spec: PipelineSpec, target: TrackingTarget, gate_result: dict[str, Any], *, sample: Any, actor: str,
            lineage: dict[str, str], approved_by: str | None = None) -> dict[str, Any]:
    """Move ``champion`` to a candidate the gate promoted, after a smoke test from ``@challenger``."""
    version = str(gate_result["candidate_version"])
    if gate_result["decision"] != "PROMOTE":
        raise RegistryError(f"v{version} was not promoted by the gate ({gate_result['decision']})")
    passed, detail = smoke_test(spec, target, version, sample, alias="challenger")
    if not passed:
        raise RegistryError(f"v{version} failed the load-and-predict smoke test from @challenger: {detail}")
    action = "forced_promote" if gate_result.get("forced") else "promote"
    why = f"gate {'PROMOTE (forced)' if gate_result.get('forced') else 'PROMOTE'}: " + _headline(gate_result["reasons"])
    if approved_by:
        why = f"approved by {approved_by}; {why}"
    moved = _move_champion(spec, target, version, expected_current=gate_result["champion_version"], action=action,
                           actor=actor, reason=why, lineage=lineage)
    return {"decision": "PROMOTE", "candidate_version": version, "champion_version": version,
            "previous_champion": moved["previous_champion"], "action": action, "at": moved["event"]["at"]}


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


# ---- rollback ------------------------------------------------------------------------------------
def previous_champion(spec: PipelineSpec, target: TrackingTarget) -> str | None:
    """The champion before the current one: the alias history first, the version tags as fallback."""
    client = target.activate()
    name = spec.model.registered_name
    current = _current(client, name, "champion")
    if current is None:
        return None
    for event in reversed(alias_history(spec, target, "champion")):
        if event["to_version"] == current and event["from_version"] not in ("none", None):
            return str(event["from_version"])
    previous = client.get_model_version(name, current).tags.get("champion.previous")
    return previous if previous and previous != "none" else None


def rollback(spec: PipelineSpec, target: TrackingTarget, *, reason: str, actor: str, version: str | None = None,
             lineage: dict[str, str] | None = None) -> dict[str, Any]:
    """Move ``champion`` to ``version`` (default: the previous champion) in one recorded step.

    Refused with a RegistryError when the reason is shorter than 10 characters, the version does not
    exist, is already champion, was rejected by the gate, or fails a load-and-predict smoke test on
    rows of its own holdout. Also used to re-promote a newer version after a rollback.
    """
    from mlflow.exceptions import MlflowException

    if len((reason or "").strip()) < MIN_REASON_CHARS:
        raise RegistryError(f"a rollback needs a reason of at least {MIN_REASON_CHARS} characters, got {reason!r}")
    client = target.activate()
    name = spec.model.registered_name
    current = _current(client, name, "champion")
    version = str(version) if version else previous_champion(spec, target)
    if version is None:
        raise RegistryError(f"{name}: no previous champion to roll back to (champion v{current or 'none'})")
    try:
        mv = client.get_model_version(name, version)
    except MlflowException as exc:
        raise RegistryError(f"{name}: version {version} does not exist") from exc
    if version == current:
        raise RegistryError(f"{name}: v{version} is already the champion")
    if mv.tags.get("gate.decision") == "REJECT":
        raise RegistryError(f"{name}: v{version} was rejected by the gate ({mv.tags.get('gate.failed_checks')}); "
                            "it cannot become champion by rollback")
    passed, detail = smoke_test(spec, target, version, _holdout_sample(spec, client, mv.run_id))
    if not passed:
        raise RegistryError(f"{name}: v{version} failed the load-and-predict smoke test: {detail}")
    newer = current is not None and int(version) > int(current)
    action = "repromote" if newer else "rollback"
    moved = _move_champion(spec, target, version, expected_current=current, action=action, actor=actor,
                           reason=reason.strip(), lineage=lineage or {})
    client.set_model_version_tag(name, version, "champion.reason", reason.strip()[:4900])
    return {"action": action, "champion_version": version, "previous_champion": current, "reason": reason.strip(),
            "actor": actor, "at": moved["event"]["at"]}


def _holdout_sample(spec: PipelineSpec, client: Any, run_id: str | None, rows: int = 50) -> Any:
    import tempfile

    import mlflow
    import pandas as pd

    from ml_lifecycle.training import model_input

    if not run_id:
        raise RegistryError("the version has no run: cannot find rows to smoke-test it with")
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="data/holdout.parquet", dst_path=tmp)
        frame = pd.read_parquet(path).head(rows)
    return model_input(spec, frame)
