"""The request that a new set be scored against a real set, sent by the apps that make sets.

Imports (this app) and generations (the training app) make sets that are to be scored; the metrics app scores
them, and it depends on both, not they on it. So they send `scoring_requested`, and the metrics app answers it
with a queued scoring job (its receiver is connected in `MetricsConfig.ready`).
"""

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

from ratingsite.imagesets.models import ImageSet

# Sent with image_set, reference_set (a real set), size (the matched resolution) and created_by; the receiver
# returns the `Job` that scores the set.
scoring_requested = Signal()


def request_scoring(image_set, reference_set, size, created_by=None):
    """Have ``image_set`` scored against ``reference_set`` at ``size``; returns the scoring job."""
    answers = scoring_requested.send(
        sender=ImageSet, image_set=image_set, reference_set=reference_set, size=size, created_by=created_by
    )
    if len(answers) != 1:
        raise ImproperlyConfigured(f"One app scores new sets (ratingsite.metrics); {len(answers)} answered.")
    (_, job) = answers[0]
    return job
