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

    min_attention = forms.FloatField(
        min_value=0,
        max_value=100,
        required=False,
        label="Exclude raters below attention (%)",
        help_text="Raters who passed fewer of their attention checks are left out of every statistic; empty: nobody.",
    )

    effect = forms.FloatField(
        min_value=0.01,
        max_value=0.49,
        required=False,
        label="Planning effect",
        help_text="The AUC above 0.5 the next study should detect, for the readers x images planning table.",
    )

    readers = forms.IntegerField(min_value=2, max_value=1000, required=False, label="Planned readers")
    images = forms.IntegerField(min_value=4, max_value=100000, required=False, label="Planned images")

    def clean_raters(self):
        return self.cleaned_data["raters"] or "all"

    def clean_effect(self):
        effect = self.cleaned_data["effect"]
        return PLANNING_EFFECT if effect is None else effect

    def planned_design(self):
        """``(readers, images)`` whose power the page shows, or None unless both are given."""
        readers, images = self.cleaned_data.get("readers"), self.cleaned_data.get("images")
        return (readers, images) if readers and images else None
