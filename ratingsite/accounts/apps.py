from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ratingsite.accounts"
    label = "accounts"
