from django import forms
from django.contrib.auth import get_user_model

from ratingsite.accounts.models import RaterProfile
from ratingsite.imagesets.models import DerivedImage, ImageSet
from ratingsite.studies.models import Rating, Study, StudySource, count_problem, repeats_problem


class StudyForm(forms.ModelForm):
    class Meta:
        model = Study
        fields = (
            "name",
            "rater_title",
            "information",
            "instructions",
            "resolution",
            "display_size",
            "target_real_share",
            "seed",
            "ask_confidence",
            "ask_comment",
            "allow_changes",
            "repeat_count",
            "repeat_gap",
            "exposure_ms",
        )

    def check_against_pool(self, sources):
        """Add errors for counts the sets of the valid ``sources`` formset cannot give at the study's resolution
        and for repeated images its pool cannot give: the rules of `drawing.draw_pool` and `drawing.draw_repeats`,
        told on the form, before anything is queued, rather than by a failed job."""
        resolution = self.cleaned_data["resolution"]
        for form in sources.forms:
            row = form.cleaned_data
            if row.get("image_set") and row.get("count") is not None and not row.get("DELETE"):
                available = DerivedImage.objects.filter(image__image_set=row["image_set"], size=resolution).count()
                problem = count_problem(row["image_set"], available, row["count"], resolution)
                if problem:
                    form.add_error("count", problem)
        rows = [form.cleaned_data for form in sources.forms if form.is_valid() and form.cleaned_data.get("image_set")]
        pool = [row for row in rows if not row.get("practice") and not row.get("DELETE")]
        problem = repeats_problem(
            self.cleaned_data["repeat_count"],
            ordinary=sum(row["count"] for row in pool if not row.get("attention_check")),
            pool=sum(row["count"] for row in pool),
            gap=self.cleaned_data["repeat_gap"],
        )
        if problem:
            self.add_error("repeat_count", problem)


class StudySourceForm(forms.ModelForm):
    class Meta:
        model = StudySource
        fields = ("image_set", "count", "attention_check", "expected_answer", "practice", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 1, "cols": 30})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image_set"].queryset = ImageSet.visible_to(user).order_by("kind", "name")


class StudySourceFormSet(forms.BaseInlineFormSet):
    """The pool's rows (the study views make the class with as many empty rows as the researcher needs): at
    least one filled; a row emptied of its set is dropped."""

    def clean(self):
        super().clean()
        if not any(form.cleaned_data.get("image_set") and not form.cleaned_data.get("DELETE") for form in self.forms):
            raise forms.ValidationError("Add at least one image set with a count.")


def username_field():
    """The user model's own username field, so an invitation accepts exactly the names an account may have."""
    field = get_user_model()._meta.get_field("username")
    return forms.CharField(max_length=field.max_length, validators=field.validators, help_text=field.help_text)


class RaterInviteForm(forms.Form):
    username = username_field()
    email = forms.EmailField(required=False, help_text="Where the invitation link is emailed, if the site sends email.")
    profession = forms.ChoiceField(choices=RaterProfile.Profession.choices)
    years_of_experience = forms.IntegerField(
        min_value=0, max_value=80, required=False, help_text="Years of clinical experience; empty if none or unknown."
    )


# The longest viewing time taken as measured (a day): the browser reports it, so it may be anything.
MAX_VIEWING_MS = 24 * 3600 * 1000


class RatingForm(forms.ModelForm):
    token = forms.CharField(widget=forms.HiddenInput)
    viewing_ms = forms.IntegerField(min_value=0, max_value=MAX_VIEWING_MS, required=False, widget=forms.HiddenInput)

    class Meta:
        model = Rating
        fields = ("answer", "quality", "confidence", "comment")
        widgets = {
            "answer": forms.RadioSelect,
            "quality": forms.RadioSelect,
            "confidence": forms.RadioSelect,
            "comment": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].choices = Rating.Answer.choices
        self.fields["quality"].choices = [(score, str(score)) for score in range(1, 6)]
        if study.ask_confidence:
            self.fields["confidence"].choices = [(score, str(score)) for score in range(1, 6)]
            # Every answer's confidence, or the ROC analysis falls back to the answer alone for everyone.
            self.fields["confidence"].required = True
        else:
            del self.fields["confidence"]
        if not study.ask_comment:
            del self.fields["comment"]
