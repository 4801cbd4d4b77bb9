from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ratingsite.core"
    label = "core"
