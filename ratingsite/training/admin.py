from django.contrib import admin

from ratingsite.core.admin import OwnedAdmin
from ratingsite.training.models import (
    ExperimentGrid,
    GeneratedSet,
    Snapshot,
    TrainingRun,
)


@admin.register(ExperimentGrid)
class ExperimentGridAdmin(OwnedAdmin):
    list_display = ("name", "dataset", "architecture", "subset_sizes", "snapshot_epochs", "learning_rates", "created")


@admin.register(TrainingRun)
class TrainingRunAdmin(OwnedAdmin):
    list_display = ("name", "dataset", "architecture", "train_images", "epochs", "lr", "seed", "grid", "created")
    list_filter = ("architecture", "grid")
    list_select_related = ("dataset", "grid")


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("run", "epoch", "checkpoint")
    list_select_related = ("run",)


@admin.register(GeneratedSet)
class GeneratedSetAdmin(admin.ModelAdmin):
    list_display = ("image_set", "snapshot", "seed")
    list_select_related = ("image_set", "snapshot__run")
