"""Role checks for class-based views; the login itself is enforced site-wide by LoginRequiredMiddleware."""

from django.contrib.auth.mixins import UserPassesTestMixin
from django.shortcuts import get_object_or_404

from ratingsite.accounts.models import is_researcher


class ResearcherRequiredMixin(UserPassesTestMixin):
    """Only researchers and staff; anyone else logged in gets 403."""

    def test_func(self):
        return is_researcher(self.request.user)


class VisibleObjectsMixin(ResearcherRequiredMixin):
    """List and detail views of `Owned` rows: researchers see what `Owned.visible_to` lets them (404 for the
    rest); the page is told whether they may change the object (``may_change``) and share it (``may_share``)."""

    def get_queryset(self):
        return self.model.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if getattr(self, "object", None) is not None:
            context["may_change"] = self.object.may_change(self.request.user)
            context["may_share"] = self.object.may_share(self.request.user)
        return context


class MayChangeMixin(ResearcherRequiredMixin):
    """Views that change or analyse one `Owned` row (``permission_object``, by default ``model`` with the URL's
    pk): its owner, collaborators and staff; other researchers get 403, and 404 where they may not see it.

    The row checked is the view's ``checked_object``, and the object of a detail or edit view, so that a request
    reads it once: ``get_object`` returns it whatever ``get_queryset`` says. A view whose ``permission_object``
    is another row than its own (a snapshot's run) reads its own row itself."""

    def permission_object(self):
        return get_object_or_404(self.model.visible_to(self.request.user), pk=self.kwargs["pk"])

    def test_func(self):
        if not super().test_func():
            return False
        self.checked_object = self.permission_object()
        return self.checked_object.may_change(self.request.user)

    def get_object(self, queryset=None):
        return self.checked_object
