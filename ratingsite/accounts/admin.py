from django.contrib import admin

from ratingsite.accounts.models import RaterProfile


@admin.register(RaterProfile)
class RaterProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "profession", "years_of_experience")
    list_filter = ("profession",)
