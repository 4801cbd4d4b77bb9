"""A new set's request to be scored: the metrics app answers it with the scoring job, and exactly one app must."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from ratingsite.imagesets.models import ImageSet
from ratingsite.imagesets.scoring import request_scoring, scoring_requested
from ratingsite.metrics.jobs import EVALUATION_JOB_KIND, queue_requested_scoring
from ratingsite.metrics.models import Evaluation
from tests.factories import ImageSetFactory

pytestmark = pytest.mark.django_db


def test_the_metrics_app_answers_with_the_job_that_scores_the_set(rq_queues):
    real, synthetic = ImageSetFactory(images=2), ImageSetFactory(images=2, kind=ImageSet.Kind.SYNTHETIC)
    job = request_scoring(synthetic, real, 64)
    assert job.kind == EVALUATION_JOB_KIND
    assert Evaluation.objects.get(synthetic_set=synthetic, reference_set=real, size=64).job == job


def test_without_an_app_to_answer_the_request_fails_clearly():
    real, synthetic = ImageSetFactory(), ImageSetFactory(kind=ImageSet.Kind.SYNTHETIC)
    scoring_requested.disconnect(queue_requested_scoring)
    try:
        with pytest.raises(ImproperlyConfigured, match=r"One app scores new sets \(ratingsite.metrics\); 0 answered"):
            request_scoring(synthetic, real, 64)
    finally:
        scoring_requested.connect(queue_requested_scoring)
    assert not Evaluation.objects.exists()
