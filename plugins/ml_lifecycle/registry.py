"""The promotion gate and the MLflow aliases it moves.

Aliases, not stages: ``champion`` is what scoring loads; ``challenger`` marks the latest candidate.
The gate's verdict is PROMOTE, HOLD or REJECT with every reason; only PROMOTE moves ``champion``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ml_lifecycle.spec import PipelineSpec
from ml_lifecycle.tracking import TrackingTarget

Decision = Literal["PROMOTE", "HOLD", "REJECT"]
LOWER_IS_BETTER = {"log_loss", "brier"}


class ChampionMoved(RuntimeError):
    """The champion changed between evaluation and promotion: the verdict compared the wrong model."""


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: list[str]
    candidate_version: str
    champion_version: str | None
    checks: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(spec: PipelineSpec, evaluation: dict[str, Any], *, smoke_test_passed: bool) -> Verdict:
    """Apply the spec's gate to an evaluation (see evaluation.evaluate_candidate)."""
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

    primary = gate.primary_metric
    if champion is None:
        reasons.append(f"no champion yet: the first model is judged on the floors only ({primary} {candidate[primary]:.4f})")
    else:
        delta = candidate[primary] - champion[primary]
        ok = delta >= -gate.max_regression - 1e-9  # a drop of exactly the tolerance is allowed
        checks["no_regression"] = ok
        reasons.append(
            f"{primary} {candidate[primary]:.4f} vs champion v{evaluation['champion_version']} "
            f"{champion[primary]:.4f} (delta {delta:+.4f}, allowed drop {gate.max_regression:.4f})"
        )

    if not all(checks.values()):
        decision: Decision = "REJECT"
    elif champion is not None and candidate[primary] < champion[primary]:
        # Within the tolerance but not better: keep the champion, which has a track record; a worse
        # model is never promoted.
        decision = "HOLD"
        reasons.append("not better than the champion: held")
    else:
        decision = "PROMOTE"
    return Verdict(decision, reasons, str(evaluation["candidate_version"]), evaluation.get("champion_version"), checks)


def smoke_test(spec: PipelineSpec, target: TrackingTarget, version: str, sample: Any) -> tuple[bool, str]:
    """Load the version through its registry URI as pyfunc and score a sample, as a consumer would."""
    import mlflow
    import numpy as np

    target.activate()
    try:
        model = mlflow.pyfunc.load_model(f"models:/{spec.model.registered_name}/{version}")
        scores = np.asarray(model.predict(sample))
    except Exception as exc:  # any failure to load or predict is a reason to refuse the model
        return False, f"{type(exc).__name__}: {exc}"
    if scores.shape[0] != len(sample) or not np.all(np.isfinite(scores)):
        return False, f"predict returned {scores.shape[0]} values for {len(sample)} rows or non-finite scores"
    return True, "ok"


def apply_verdict(
    spec: PipelineSpec, target: TrackingTarget, verdict: Verdict, *, actor: str, lineage: dict[str, str]
) -> dict[str, Any]:
    """Record the verdict on the candidate version and, on PROMOTE, move ``champion`` to it."""
    client = target.activate()
    name = spec.model.registered_name
    version = verdict.candidate_version
    now = datetime.now(UTC).isoformat()
    client.set_model_version_tag(name, version, "gate.decision", verdict.decision)
    client.set_model_version_tag(name, version, "gate.reasons", json.dumps(verdict.reasons)[:4900])
    client.set_model_version_tag(name, version, "gate.judged_at", now)
    previous = verdict.champion_version
    if verdict.decision == "PROMOTE":
        from ml_lifecycle.evaluation import champion_version

        current = champion_version(spec, target)
        if (current["version"] if current else None) != previous:
            raise ChampionMoved(
                f"{name}: champion is v{current['version'] if current else 'none'} now but the candidate was "
                f"judged against v{previous or 'none'}; re-run the evaluation"
            )
        client.set_registered_model_alias(name, "champion", version)
        client.set_model_version_tag(name, version, "champion.since", now)
        client.set_model_version_tag(name, version, "champion.promoted_by", actor)
        client.set_model_version_tag(name, version, "champion.previous", previous or "none")
        for key, value in lineage.items():
            client.set_model_version_tag(name, version, f"promotion.{key}", value)
        if previous:
            client.set_model_version_tag(name, previous, "champion.until", now)
        _drop_alias_if_on(client, name, "challenger", version)
    return {
        "decision": verdict.decision,
        "candidate_version": version,
        "champion_version": version if verdict.decision == "PROMOTE" else previous,
        "previous_champion": previous,
        "reasons": verdict.reasons,
    }


def _drop_alias_if_on(client: Any, name: str, alias: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        if str(client.get_model_version_by_alias(name, alias).version) == str(version):
            client.delete_registered_model_alias(name, alias)
    except MlflowException:
        pass
