from django import forms

from ratingsite.analysis.data import RATER_GROUPS
from ratingsite.analysis.reports import PLANNING_EFFECT
from ratingsite.studies.models import Study


class AnalysisFilterForm(forms.Form):
    raters = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in RATER_GROUPS.items()], initial="all", required=False
    )
    studies = forms.ModelMultipleChoiceField(
        queryset=Study.objects.order_by("name"),
        required=False,
        label="Pool with",
        help_text="Other studies whose ratings are analysed together with this one's.",
    )

    effect = forms.FloatField(
        min_value=0.01,
        max_value=0.49,
        required=False,
        label="Planning effect",
        help_text="The AUC above 0.5 the next study should detect, for the readers x images planning table.",
    )

    def clean_raters(self):
        return self.cleaned_data["raters"] or "all"

    def clean_effect(self):
        effect = self.cleaned_data["effect"]
        return PLANNING_EFFECT if effect is None else effect
