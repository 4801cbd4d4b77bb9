"""Forms shared by the apps, and how every form of the site renders.

`SiteFormRenderer` (``FORM_RENDERER``) renders every form, the admin's and django.contrib.auth's too, with the
project's templates first: ``templates/django/forms/label.html`` marks the label of each required field. Its
`SiteBoundField` comes with the only option chosen where a required choice has exactly one.
"""

import itertools

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms.renderers import TemplatesSetting
from django.forms.widgets import ChoiceWidget
from django.utils.functional import cached_property

from ratingsite.accounts.models import RESEARCHERS
from ratingsite.core.models import Owned


class SiteBoundField(forms.BoundField):
    """A field of any form of the site: a required choice of one option, given no initial value, has that one."""

    @cached_property
    def initial(self):
        initial = super().initial
        if initial not in (None, "") or not self.field.required or not self._is_single_choice_widget():
            return initial
        # Two options are enough to know there is more than one; a long queryset is not read to the end.
        options = list(itertools.islice(_option_values(self.field.choices), 2))
        return options[0] if len(options) == 1 else initial

    def _is_single_choice_widget(self):
        widget = self.field.widget
        return isinstance(widget, ChoiceWidget) and not widget.allow_multiple_selected


def _option_values(choices):
    """The values of ``choices`` that can be chosen, inside option groups too, without the empty one."""
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from _option_values(label)
        elif value not in (None, ""):
            yield getattr(value, "value", value)  # a ModelChoiceIteratorValue: its primary key


class SiteFormRenderer(TemplatesSetting):
    bound_field_class = SiteBoundField


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
