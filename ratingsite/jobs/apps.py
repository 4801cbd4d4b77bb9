from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "ratingsite.jobs"
    label = "jobs"
