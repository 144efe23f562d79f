"""The model registry (MLflow): aliases with their audited history, evaluation, the gate, promotion, rollback.

``aliases`` moves ``champion``/``challenger`` and records every move (one ``champion_at`` for backfills),
``evaluation`` scores candidate and champion on the same holdout, ``gate`` judges (PROMOTE, HOLD, REJECT),
``promotion`` records the verdict and moves the champion, ``rollbacks`` moves it back (or forward), ``lineage`` and
``model_card`` explain a version.

May import: training, validation, ingest, the lake, the spec, tracking, metrics, exceptions.
"""

from ml_lifecycle.exceptions import ChampionMoved, LineageError, RegistryError, RegistryUnavailable
from ml_lifecycle.registry.aliases import (
    alias_history,
    aliased_version,
    as_utc,
    champion_at,
    champion_version,
    events_experiment,
    record_alias_move,
    set_alias,
    unreachable,
)
from ml_lifecycle.registry.evaluation import (
    evaluate_candidate,
    model_size_bytes,
    prediction_latency,
    slice_metrics,
    slice_values,
)
from ml_lifecycle.registry.gate import Verdict, judge
from ml_lifecycle.registry.lineage import format_lineage, version_lineage
from ml_lifecycle.registry.model_card import card_folder, card_paths, write_model_card
from ml_lifecycle.registry.promotion import (
    apply_verdict,
    judge_candidate,
    nominate_challenger,
    publish,
    record_verdict,
    smoke_test,
)
from ml_lifecycle.registry.rollbacks import MIN_REASON_CHARS, previous_champion, rollback

__all__ = [
    "ChampionMoved",
    "LineageError",
    "MIN_REASON_CHARS",
    "RegistryError",
    "RegistryUnavailable",
    "Verdict",
    "alias_history",
    "aliased_version",
    "apply_verdict",
    "as_utc",
    "card_folder",
    "card_paths",
    "champion_at",
    "champion_version",
    "evaluate_candidate",
    "events_experiment",
    "format_lineage",
    "judge",
    "judge_candidate",
    "model_size_bytes",
    "nominate_challenger",
    "prediction_latency",
    "previous_champion",
    "publish",
    "record_alias_move",
    "record_verdict",
    "rollback",
    "set_alias",
    "slice_metrics",
    "slice_values",
    "smoke_test",
    "unreachable",
    "version_lineage",
    "write_model_card",
]
