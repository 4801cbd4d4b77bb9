from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "ratingsite.training"
    label = "training"
