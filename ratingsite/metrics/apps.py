from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "ratingsite.metrics"
    label = "metrics"
