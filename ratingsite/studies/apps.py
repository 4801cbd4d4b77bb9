from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "ratingsite.studies"
    label = "studies"
