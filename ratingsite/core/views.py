"""Views every app builds on: choices limited to what the user sees, and naming an owned row's collaborators."""

from django.conf import settings
from django.contrib import messages
from django.forms import modelform_factory
from django.views.generic import UpdateView

from ratingsite.accounts.mixins import ResearcherRequiredMixin
from ratingsite.core.forms import CollaboratorsForm, visible_choices


class VisibleChoicesMixin:
    """Form views whose choices of `Owned` rows are only those the user may see."""

    def get_form(self, form_class=None):
        return visible_choices(super().get_form(form_class), self.request.user)


class CollaboratorsUpdate(ResearcherRequiredMixin, UpdateView):
    """The owner (or staff) names the researchers who share an `Owned` row; the URL names its ``model``."""

    template_name = "core/collaborators_form.html"

    def get_queryset(self):
        return self.model.visible_to(self.request.user)

    def test_func(self):
        return super().test_func() and self.get_object().may_share(self.request.user)

    def get_form_class(self):
        return modelform_factory(self.model, form=CollaboratorsForm, fields=("collaborators",))

    def form_valid(self, form):
        messages.success(self.request, "Collaborators saved.")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(see_all_work=settings.RESEARCHERS_SEE_ALL_WORK, **kwargs)

    def get_success_url(self):
        return self.object.get_absolute_url()
