from django.contrib import admin

from ratingsite.accounts.models import ApiToken, RaterProfile


@admin.register(RaterProfile)
class RaterProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "profession", "years_of_experience")
    list_filter = ("profession",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created")
    readonly_fields = ("key", "created")
