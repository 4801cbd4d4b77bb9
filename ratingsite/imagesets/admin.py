from django.contrib import admin

from ratingsite.core.admin import OwnedAdmin
from ratingsite.imagesets.models import Annotation, DerivedImage, Image, ImageSet


@admin.register(ImageSet)
class ImageSetAdmin(OwnedAdmin):
    list_display = ("name", "kind", "resize_mode", "created_by", "created")
    list_filter = ("kind", "resize_mode")
    search_fields = ("name",)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("original_name", "image_set", "width", "height", "sha256")
    list_filter = ("image_set",)
    search_fields = ("original_name", "sha256")
    list_select_related = ("image_set",)


@admin.register(DerivedImage)
class DerivedImageAdmin(admin.ModelAdmin):
    list_display = ("image", "size", "file")
    list_filter = ("size",)
    list_select_related = ("image__image_set",)


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ("original_name", "kind", "image")
    list_select_related = ("image__image_set",)
