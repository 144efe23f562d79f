"""Every error the lifecycle raises on purpose, in one place: each names what is wrong and where.

Operators map them to Airflow outcomes (fail without retries, skip, retry) without importing the stage
that raises them; the stage packages re-export the ones they raise.
"""

from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """A pipeline spec that cannot be used; the message names the file and the field."""


class PartitionNotFound(FileNotFoundError):
    """A partition that a step needs has not been published (or was never complete)."""


class LakeStorageError(RuntimeError):
    """The lake's object store cannot be opened or reached, or refused an operation; names the lake root."""


class LandingNotReady(FileNotFoundError):
    """The landing folder of a date is missing or not marked complete yet."""


class BadLandingFile(ValueError):
    """A landed file that cannot be read as the spec describes it; the message names the file and the problem.

    Its bytes are still kept in ``raw/`` (under their hash), so nothing that arrived is ever lost.
    """


class LandingInTheFuture(ValueError):
    """A landing drop dated after today: a clock or naming error at the source, never a real day."""


class BadLabels(ValueError):
    """A labels file that cannot be used; the message names the problem and the file."""


class DataValidationError(ValueError):
    """A batch failed at least one expectation of severity ``error``; it was quarantined."""

    def __init__(
        self,
        message: str,
        *,
        report_path: str,
        failed: list[dict[str, Any]],
        quarantine_path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.report_path = report_path
        self.failed = failed
        self.quarantine_path = quarantine_path


class InsufficientTrainingData(ValueError):
    """The window does not hold enough labelled rows (or both classes) to train and judge a model."""


class UntrustedModelTypes(TypeError):
    """The model holds types outside the reviewed SKOPS_TRUSTED list: it would not load safely."""


class RegistryError(ValueError):
    """A registry action that cannot be done as asked (unknown version, missing reason, ...)."""


class RegistryUnavailable(ConnectionError):
    """MLflow could not be reached; nothing was changed, and the same call can be retried as it is."""


class ChampionMoved(RuntimeError):
    """The champion changed between evaluation and promotion: the verdict compared the wrong model."""


class LineageError(LookupError):
    """The version (or alias) asked for does not exist."""


class NoChampion(LookupError):
    """No model version holds the ``champion`` alias yet: there is nothing to score with."""


class NoChallenger(LookupError):
    """No ``challenger`` alias, or it is the model that scored the predictions: nothing to shadow."""


class ScoringSchemaMismatch(ValueError):
    """The validated partition does not have the columns and types the model's signature expects."""

    def __init__(self, model: str, missing: list[str], extra: list[str], mistyped: list[str]) -> None:
        self.missing, self.extra, self.mistyped = missing, extra, mistyped
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"feature columns the model does not take {extra}")
        if mistyped:
            parts.append(f"mistyped columns {mistyped}")
        super().__init__(f"partition does not match the signature of {model}: {'; '.join(parts)}")
