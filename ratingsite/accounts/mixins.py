"""Role checks for class-based views; the login itself is enforced site-wide by LoginRequiredMiddleware."""

from django.contrib.auth.mixins import UserPassesTestMixin

from ratingsite.accounts.models import is_researcher


class ResearcherRequiredMixin(UserPassesTestMixin):
    """Only researchers and staff; anyone else logged in gets 403."""

    def test_func(self):
        return is_researcher(self.request.user)
