"""rq job functions of the metrics app: scoring a synthetic set against a real reference set, queued from the
set's page or at the request of the import or generation that made the set (`queue_requested_scoring`)."""

from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction

from evaluation.reference_cache import ReferenceCache
from ratingsite.jobs.models import Job
from ratingsite.jobs.tracking import Outcome, tracked
from ratingsite.metrics.loading import load_for_evaluation
from ratingsite.metrics.models import Evaluation, ImageScore, encode_number

EVALUATION_JOB_KIND = "score image set"


def reference_cache():
    """Reference features shared by every worker through the media storage."""
    return ReferenceCache(Path(settings.MEDIA_ROOT) / "metric-cache")


@tracked
def evaluate_set(progress, *, evaluation_pk):
    evaluation = Evaluation.objects.select_related("synthetic_set", "reference_set").get(pk=evaluation_pk)
    return score(evaluation, progress)


def score(evaluation, progress):
    """Compute every registered metric for ``evaluation`` and store set values, tables and per-image values."""
    # Here, not at the top: the registry imports every metric's libraries (torch, scipy, scikit-image),
    # which a scoring job needs but none of the pages that import this module.
    from evaluation.registry import compute_metrics, per_image_table

    progress(0, 1, "Loading images.")
    real = load_for_evaluation(evaluation.reference_set, evaluation.size)
    synthetic = load_for_evaluation(evaluation.synthetic_set, evaluation.size)
    results = compute_metrics(
        real,
        synthetic,
        cache=reference_cache(),
        on_metric=lambda done, total, name: progress(done, total, f"Computing {name} ({done + 1} of {total})."),
    )
    table = per_image_table(results, synthetic)
    columns = [column for column in table.columns if column not in ("synthetic_index", "synthetic_name")]
    with transaction.atomic():
        evaluation.values = {
            name: {key: encode_number(value) for key, value in result.values.items()}
            for name, result in results.items()
        }
        evaluation.versions = {name: result.version for name, result in results.items()}
        evaluation.tables = {
            table_name: _json_rows(frame) for result in results.values() for table_name, frame in result.tables.items()
        }
        evaluation.save(update_fields=["values", "versions", "tables"])
        evaluation.image_scores.all().delete()
        ImageScore.objects.bulk_create(
            [
                ImageScore(
                    evaluation=evaluation,
                    image_id=int(row["synthetic_name"]),
                    values={column: encode_number(row[column]) for column in columns},
                )
                for row in table.to_dict("records")
            ],
            batch_size=1000,
        )
    return Outcome(
        f"Scored {len(synthetic)} images against {len(real)} real images with {len(results)} metrics.",
        {"evaluation": evaluation.pk},
    )


def _json_rows(frame):
    """A DataFrame as JSON-safe rows."""
    return [{column: _json_value(value) for column, value in row.items()} for row in frame.to_dict("records")]


def _json_value(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return encode_number(value)
    return str(value)


def queue_requested_scoring(sender, *, image_set, reference_set, size, created_by, **kwargs):
    """The answer to `ratingsite.imagesets.scoring.scoring_requested`: the job that scores the new set."""
    return enqueue_evaluation(image_set, reference_set, size, created_by=created_by).job


def enqueue_evaluation(synthetic_set, reference_set, size, created_by=None):
    """Create (or reuse) the evaluation of ``synthetic_set`` against ``reference_set`` and queue its scoring."""
    evaluation, _ = Evaluation.objects.get_or_create(
        synthetic_set=synthetic_set, reference_set=reference_set, size=size, defaults={"created_by": created_by}
    )
    evaluation.job = Job.enqueue(
        evaluate_set,
        {"evaluation_pk": evaluation.pk},
        kind=EVALUATION_JOB_KIND,
        created_by=created_by,
        result={"evaluation": evaluation.pk},
    )
    evaluation.save(update_fields=["job"])
    return evaluation
