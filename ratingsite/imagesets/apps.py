from django.apps import AppConfig


class ImageSetsConfig(AppConfig):
    name = "ratingsite.imagesets"
    label = "imagesets"
    verbose_name = "image sets"

    def ready(self):
        from ratingsite.imagesets import signals  # noqa: F401  (connects the receivers)
