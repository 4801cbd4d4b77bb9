from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "ratingsite.metrics"
    label = "metrics"

    def ready(self):
        from ratingsite.imagesets.scoring import scoring_requested
        from ratingsite.metrics.jobs import queue_requested_scoring

        scoring_requested.connect(queue_requested_scoring)
