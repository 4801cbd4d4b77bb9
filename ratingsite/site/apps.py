from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "ratingsite.site"
    label = "site"
    verbose_name = "Site"
