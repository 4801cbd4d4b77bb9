from django.contrib import admin

from ratingsite.accounts.models import ApiToken, Invitation, RaterProfile


@admin.register(RaterProfile)
class RaterProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "profession", "years_of_experience")
    list_filter = ("profession",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created")
    readonly_fields = ("key", "created")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Staff see who was invited and whether the link was used, and revoke one by deleting it. Links are issued
    on the study page only: the token is shown once there, and only its hash is stored."""

    list_display = ("user", "created_by", "created", "expires", "used")
    list_filter = ("used",)
    readonly_fields = ("user", "token_hash", "created_by", "created", "expires", "used")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
