"""Batch inference operators: one-task scoring, or plan -> score_shard (mapped) -> publish, and shadow scoring.

Thin on purpose: each calls one function of ``ml_lifecycle.inference``. A schema mismatch between the
partition and the model fails without retries (the same data fails the same way); no champion skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ml_lifecycle.operators.base import PipelineOperator
from ml_lifecycle.ui.links import PARTITION_XCOM_KEY, PartitionLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ml_lifecycle.contracts import ScoringShard


def _run_moment(context: Context) -> datetime:
    """When this run would have run in production: the end of its data interval, else its run_after."""
    end = context.get("data_interval_end")
    return end if end is not None else context["dag_run"].run_after


class BatchPredictOperator(PipelineOperator):
    """Score a validated partition into ``predictions/`` in one task (small partitions, simple DAGs).

    :param model_version: a registered version to score with (templated); empty means the version
        that was champion at the end of the run's data interval.
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "model_version")
    ui_color = "#e8f5e9"
    operator_extra_links = (PartitionLink(),)

    def __init__(self, *, model_version: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_version = model_version

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.exceptions import NoChampion, ScoringSchemaMismatch
        from ml_lifecycle.inference import score_partition

        ds = self.resolved_date(context)
        try:
            result = self.timed(lambda: score_partition(
                self.spec, self.lake, ds, self.tracking, moment=_run_moment(context),
                model_version=self.model_version or None))
        except NoChampion as exc:
            raise AirflowSkipException(str(exc)) from exc
        except ScoringSchemaMismatch as exc:
            raise AirflowFailException(str(exc)) from exc
        context["ti"].xcom_push(key=PARTITION_XCOM_KEY, value=result["predictions_path"])
        self.log.info("scored %s ds=%s: %s", self.pipeline, ds, result)
        return result


class PlanScoringOperator(PipelineOperator):
    """Pick the model, check the partition's schema against it and cut the partition into shards.

    Returns the list of shard specs that ``ScoreShardOperator`` is mapped over (``.expand(shard=...)``).

    :param model_version: as for :class:`BatchPredictOperator` (templated).
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "model_version")
    ui_color = "#e8f5e9"

    def __init__(self, *, model_version: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_version = model_version

    def execute(self, context: Context) -> list[ScoringShard]:
        from ml_lifecycle.exceptions import NoChampion, ScoringSchemaMismatch
        from ml_lifecycle.inference import plan_scoring, run_key_of

        ds = self.resolved_date(context)
        try:
            shards = plan_scoring(self.spec, self.lake, ds, self.tracking, moment=_run_moment(context),
                                  model_version=self.model_version or None, run_key=run_key_of(context["run_id"]))
        except NoChampion as exc:
            raise AirflowSkipException(str(exc)) from exc
        except ScoringSchemaMismatch as exc:
            raise AirflowFailException(str(exc)) from exc
        first = shards[0]
        self.log.info("plan %s ds=%s: v%s (%s), %d shard(s), %d rows", self.pipeline, ds, first["model_version"],
                      first["model_source"], len(shards), shards[-1]["row_stop"])
        return shards


class ScoreShardOperator(PipelineOperator):
    """Score one shard of a plan into its hidden shard file; retried alone when it fails.

    :param shard: one element of ``PlanScoringOperator``'s output (mapped with ``.expand``).
    """

    ui_color = "#c8e6c9"

    def __init__(self, *, shard: ScoringShard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard = shard

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.inference import score_shard

        result = self.timed(lambda: score_shard(self.spec, self.lake, self.shard, self.tracking))
        self.log.info("scored shard %s of %s ds=%s: %s", self.shard["index"], self.pipeline, self.shard["ds"], result)
        return result


class PublishPredictionsOperator(PipelineOperator):
    """Publish every shard of a plan as one ``predictions/`` partition, atomically.

    :param shards: the plan (``PlanScoringOperator``'s output, templated XComArg).
    :param results: the mapped ``ScoreShardOperator`` results (templated XComArg).
    """

    template_fields: Sequence[str] = (*PipelineOperator.template_fields, "shards", "results")
    ui_color = "#e8f5e9"
    operator_extra_links = (PartitionLink(),)

    def __init__(self, *, shards: Any, results: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shards = shards
        self.results = results

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.inference import publish_predictions

        result = self.timed(lambda: publish_predictions(self.spec, self.lake, list(self.shards), list(self.results)))
        context["ti"].xcom_push(key=PARTITION_XCOM_KEY, value=result["predictions_path"])
        self.log.info("published predictions %s ds=%s: %s", self.pipeline, result["ds"], result)
        return result


class ShadowScoreOperator(PipelineOperator):
    """Score the partition with the ``challenger`` into ``shadow/`` with agreement statistics.

    Returns the statistics (none when there is no challenger to shadow: the task then succeeds with
    ``{"shadow": False}``, so downstream monitoring still runs). The published predictions are only read.
    """

    ui_color = "#fff8e1"
    operator_extra_links = (PartitionLink(),)

    def execute(self, context: Context) -> dict[str, Any]:
        from ml_lifecycle.exceptions import NoChallenger, ScoringSchemaMismatch
        from ml_lifecycle.inference import shadow_score

        ds = self.resolved_date(context)
        try:
            result = self.timed(lambda: shadow_score(self.spec, self.lake, ds, self.tracking,
                                                     lineage=self.lineage(context)))
        except NoChallenger as exc:
            self.log.info("no shadow scoring: %s", exc)
            return {"shadow": False, "ds": ds, "reason": str(exc)}
        except ScoringSchemaMismatch as exc:
            raise AirflowFailException(str(exc)) from exc
        context["ti"].xcom_push(key=PARTITION_XCOM_KEY, value=result["shadow_path"])
        self.log.info("shadow %s ds=%s: %s", self.pipeline, ds, result)
        return {"shadow": True, **result}
