from django.contrib import admin

from ratingsite.metrics.models import Evaluation, ImageScore


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("synthetic_set", "reference_set", "size", "created")
    list_select_related = ("synthetic_set", "reference_set")


@admin.register(ImageScore)
class ImageScoreAdmin(admin.ModelAdmin):
    list_display = ("evaluation", "image")
    list_select_related = ("evaluation__synthetic_set", "image")
