from django import forms

from ratingsite.imagesets.models import ImageSet
from ratingsite.training.models import (
    DEFAULT_IMAGES_PER_SET,
    PAPER_SNAPSHOT_EPOCHS,
    PAPER_SUBSET_SIZES,
    TrainingRun,
)
from synthesis.config import ARCHITECTURES


class NumberListField(forms.CharField):
    """Comma-separated numbers, e.g. ``300, 500, 800, 1000``."""

    def __init__(self, *, number_type=int, **kwargs):
        self.number_type = number_type
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        try:
            numbers = [self.number_type(item) for item in text.replace(";", ",").split(",") if item.strip()]
        except ValueError:
            kind = "whole numbers" if self.number_type is int else "numbers"
            raise forms.ValidationError(f"Enter {kind} separated by commas.") from None
        if not numbers:
            raise forms.ValidationError("Enter at least one number.")
        if any(number <= 0 for number in numbers):
            raise forms.ValidationError("Every number must be positive.")
        return numbers

    def prepare_value(self, value):
        return ", ".join(f"{number:g}" for number in value) if isinstance(value, (list, tuple)) else value


def real_sets():
    return ImageSet.objects.filter(kind=ImageSet.Kind.REAL)


class TrainingRunForm(forms.ModelForm):
    snapshot_epochs = NumberListField(
        initial=list(PAPER_SNAPSHOT_EPOCHS), help_text="Epochs at which to keep the generator."
    )

    class Meta:
        model = TrainingRun
        fields = (
            "name",
            "dataset",
            "architecture",
            "train_images",
            "epochs",
            "snapshot_epochs",
            "lr",
            "batch_size",
            "seed",
            "real_label",
            "rotation_degrees",
            "images_per_snapshot",
        )
        labels = {"lr": "Learning rate", "train_images": "Training subset size", "real_label": "Real label"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = real_sets()
        self.fields["epochs"].initial = max(PAPER_SNAPSHOT_EPOCHS)


class ExperimentGridForm(forms.Form):
    name = forms.CharField(max_length=200, initial="Reference study grid")
    dataset = forms.ModelChoiceField(queryset=ImageSet.objects.none())
    architecture = forms.ChoiceField(choices=[(name, name) for name in ARCHITECTURES])
    subset_sizes = NumberListField(initial=list(PAPER_SUBSET_SIZES), help_text="One training run per size.")
    snapshot_epochs = NumberListField(initial=list(PAPER_SNAPSHOT_EPOCHS), help_text="Runs last to the largest.")
    learning_rates = NumberListField(
        number_type=float, initial=[2e-4], help_text="More than one adds a learning-rate axis to the grid."
    )
    images_per_set = forms.IntegerField(min_value=1, initial=DEFAULT_IMAGES_PER_SET)
    batch_size = forms.IntegerField(min_value=1, initial=128)
    seed = forms.IntegerField(initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = real_sets()


class GenerateSetForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=100_000, initial=DEFAULT_IMAGES_PER_SET, label="Images")
    seed = forms.IntegerField(initial=0)
