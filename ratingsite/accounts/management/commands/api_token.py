from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ratingsite.accounts.models import ApiToken, is_researcher


class Command(BaseCommand):
    help = "Create an API token for a researcher (for the REST endpoints) and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        if not is_researcher(user):
            raise CommandError(f"{username} is not a researcher; only researchers may use the API.")
        self.stdout.write(ApiToken.objects.create(user=user).key)
