"""Every form of the site marks its required fields and comes with the only option of a required choice chosen."""

import re

import pytest
from django import forms
from django.urls import reverse

from ratingsite.imagesets.models import ImageSet
from tests.factories import ImageSetFactory, ResearcherFactory

pytestmark = pytest.mark.django_db

MARKER = '<abbr class="required" title="required">*</abbr>'


def selected_options(page, name):
    """The values of the options chosen in the select ``name``, but the empty one."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.DOTALL).group(0)
    return re.findall(r'<option value="([^"]+)"[^>]*selected', select)


def test_the_only_real_set_is_chosen_on_the_training_form(client):
    client.force_login(ResearcherFactory())
    only = ImageSetFactory(name="HC18")
    ImageSetFactory(kind=ImageSet.Kind.SYNTHETIC)
    page = client.get(reverse("training:trainingrun-create")).content.decode()
    assert selected_options(page, "dataset") == [str(only.pk)]
    assert selected_options(page, "architecture") == []  # two to choose from

    ImageSetFactory(name="another real set")
    page = client.get(reverse("training:trainingrun-create")).content.decode()
    assert selected_options(page, "dataset") == []


def test_a_refused_form_keeps_what_was_chosen(client):
    client.force_login(ResearcherFactory())
    only = ImageSetFactory()
    response = client.post(reverse("training:trainingrun-create"), {"name": "", "dataset": ""})
    assert selected_options(response.content.decode(), "dataset") == []
    response = client.post(reverse("training:trainingrun-create"), {"name": "", "dataset": only.pk})
    assert selected_options(response.content.decode(), "dataset") == [str(only.pk)]


def test_required_fields_are_marked_and_optional_ones_not(client):
    client.force_login(ResearcherFactory())
    page = client.get(reverse("imagesets:imageset-import")).content.decode()
    assert f'<label for="id_name">Name: {MARKER}</label>' in page
    assert f'<label for="id_archive">Archive: {MARKER}</label>' in page
    assert '<label for="id_score_against">Score against:</label>' in page
    client.logout()
    assert f"Username: {MARKER}" in client.get(reverse("login")).content.decode()


class Choices(forms.Form):
    one = forms.ChoiceField(choices=[("a", "A")])
    one_in_a_group = forms.ChoiceField(choices=[("", "---"), ("Group", [("b", "B")])])
    optional = forms.ChoiceField(choices=[("c", "C")], required=False)
    several = forms.MultipleChoiceField(choices=[("d", "D")])
    given = forms.ChoiceField(choices=[("e", "E")], initial="e")
    two = forms.ChoiceField(choices=[("f", "F"), ("g", "G")])
    hidden = forms.ChoiceField(choices=[("h", "H")], widget=forms.HiddenInput)


def test_only_a_required_single_choice_with_one_option_is_chosen():
    form = Choices()
    assert {name: form[name].value() for name in form.fields} == {
        "one": "a",
        "one_in_a_group": "b",
        "optional": None,
        "several": None,
        "given": "e",
        "two": None,
        "hidden": None,
    }
