from django import forms

from ratingsite.imagesets.models import ImageSet
from synthesis.preprocessing import TRAINING_SIZES


class EvaluationForm(forms.Form):
    reference_set = forms.ModelChoiceField(
        queryset=ImageSet.objects.filter(kind=ImageSet.Kind.REAL), help_text="The real images to compare against."
    )
    size = forms.TypedChoiceField(
        coerce=int, choices=[(size, f"{size} x {size}") for size in TRAINING_SIZES], label="Matched resolution"
    )
