from django.contrib import admin


class OwnedAdmin(admin.ModelAdmin):
    """The admin of an `Owned` model: staff hand it to another owner or name its collaborators."""

    filter_horizontal = ("collaborators",)
    list_filter = ("created_by",)
