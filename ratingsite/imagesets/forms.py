import zipfile

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from ratingsite.imagesets.models import ImageSet
from synthesis.preprocessing import RESIZE_MODES, TRAINING_SIZES


class ImageSetImportForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ImageSet.Kind.choices, initial=ImageSet.Kind.REAL)
    resize_mode = forms.ChoiceField(
        choices=[(mode, mode) for mode in RESIZE_MODES],
        initial=RESIZE_MODES[0],
        help_text="stretch: the whole frame resized straight to a square, as in the reference study; "
        "center-crop: the largest centred square first.",
    )
    score_against = forms.ModelChoiceField(
        queryset=ImageSet.objects.filter(kind=ImageSet.Kind.REAL),
        required=False,
        label="Score against",
        help_text="For synthetic sets: the real set to compute the quality metrics against once imported.",
    )
    archive = forms.FileField(
        help_text="A zip of PNG, JPEG, BMP or TIFF images, optionally with a CSV table that has a 'filename' column."
    )

    def clean_archive(self):
        archive = self.cleaned_data["archive"]
        if archive.size > settings.IMPORT_MAX_ARCHIVE_BYTES:
            raise forms.ValidationError(
                f"The archive is {filesizeformat(archive.size)}, over the limit of "
                f"{filesizeformat(settings.IMPORT_MAX_ARCHIVE_BYTES)}."
            )
        if not zipfile.is_zipfile(archive):
            raise forms.ValidationError("This file is not a zip archive.")
        archive.seek(0)
        return archive


class ScoringForm(forms.Form):
    """The real set to score an image set against, and the resolution to match them at (the metrics app
    scores it)."""

    reference_set = forms.ModelChoiceField(
        queryset=ImageSet.objects.filter(kind=ImageSet.Kind.REAL), help_text="The real images to compare against."
    )
    size = forms.TypedChoiceField(
        coerce=int, choices=[(size, f"{size} x {size}") for size in TRAINING_SIZES], label="Matched resolution"
    )


class SyntheticSetUploadForm(ImageSetImportForm):
    """A synthetic set made by another model, with what is known of how it was made."""

    model_name = forms.CharField(max_length=200, help_text="The model that generated the images.")
    epoch = forms.IntegerField(min_value=0, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ("name", "model_name", "epoch", "notes", "resize_mode", "score_against", "archive")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]

    def provenance(self):
        data = self.cleaned_data
        return {"model": data["model_name"], "epoch": data["epoch"], "notes": data["notes"], "uploaded": True}
