from django import forms

from ratingsite.analysis.data import RATER_GROUPS
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

    def clean_raters(self):
        return self.cleaned_data["raters"] or "all"
