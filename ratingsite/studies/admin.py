from django.contrib import admin

from ratingsite.core.admin import OwnedAdmin
from ratingsite.studies.models import (
    Participation,
    PracticeAnswer,
    Rating,
    Showing,
    Study,
    StudyItem,
    StudySource,
)


class StudySourceInline(admin.TabularInline):
    model = StudySource


# What the prepared items and the raters' orders were made from: changing it afterwards would make the study's
# settings say what its raters did not see.
PREPARED_FIELDS = ("resolution", "display_size", "seed", "repeat_count", "repeat_gap", "exposure_ms")


@admin.register(Study)
class StudyAdmin(OwnedAdmin):
    list_display = ("name", "rater_title", "resolution", "display_size", "seed", "created_by", "created")
    inlines = [StudySourceInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, *PREPARED_FIELDS) if obj is not None and obj.items.exists() else readonly


@admin.register(StudyItem)
class StudyItemAdmin(admin.ModelAdmin):
    list_display = ("token", "study", "image", "is_real", "role")
    list_filter = ("study", "is_real", "role")
    list_select_related = ("study", "image")


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ("study", "rater", "profession", "years_of_experience", "consented", "practised", "finished")


@admin.register(Showing)
class ShowingAdmin(admin.ModelAdmin):
    list_display = ("item", "rater", "shown")


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("item", "rater", "answer", "quality", "confidence", "shown", "submitted")
    list_filter = ("item__study", "answer", "quality")
    list_select_related = ("item", "rater")


@admin.register(PracticeAnswer)
class PracticeAnswerAdmin(admin.ModelAdmin):
    list_display = ("item", "rater", "answer", "quality", "confidence", "submitted")
    list_filter = ("item__study",)
    list_select_related = ("item", "rater")
