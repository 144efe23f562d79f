"""The promotion gate: PROMOTE, HOLD or REJECT, with every reason; it never moves an alias itself.

The policy (``gate:`` in the pipeline spec), judged on the evaluation of :func:`~ml_lifecycle.registry.evaluation.evaluate_candidate`:
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

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ml_lifecycle.spec import PipelineSpec

Decision = Literal["PROMOTE", "HOLD", "REJECT"]

LOWER_IS_BETTER = {"log_loss", "brier"}


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


def judge(spec: PipelineSpec, evaluation: Mapping[str, Any], *, smoke_test_passed: bool,
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


def _judge_slices(spec: PipelineSpec, evaluation: Mapping[str, Any], checks: dict[str, bool], reasons: list[str]) -> None:
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
