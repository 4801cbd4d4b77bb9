from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "ratingsite.analysis"
    label = "analysis"
