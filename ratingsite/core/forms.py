from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from ratingsite.accounts.models import RESEARCHERS
from ratingsite.core.models import Owned


def errors_as_message(form):
    """A bound form's errors as one line, for views that report them with `django.contrib.messages`."""
    return "; ".join(error for errors in form.errors.values() for error in errors)


class CollaboratorsForm(forms.ModelForm):
    """The collaborators of an `Owned` row, chosen among the researchers other than its owner."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        researchers = get_user_model().objects.filter(Q(groups__name=RESEARCHERS) | Q(is_staff=True), is_active=True)
        self.fields["collaborators"].queryset = (
            researchers.exclude(pk=self.instance.created_by_id).distinct().order_by("username")
        )


def visible_choices(form, user):
    """Narrow every choice of an `Owned` row in ``form`` to the rows ``user`` may see (`Owned.visible_to`)."""
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and issubclass(queryset.model, Owned):
            field.queryset = queryset.filter(pk__in=queryset.model.visible_to(user).values("pk"))
    return form
