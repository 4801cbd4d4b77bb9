import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, FormView, ListView, View

from ratingsite.accounts.mixins import ResearcherRequiredMixin
from ratingsite.imagesets import jobs
from ratingsite.imagesets.forms import ImageSetImportForm
from ratingsite.imagesets.models import DerivedImage, Image, ImageSet
from ratingsite.metrics.forms import EvaluationForm

IMAGES_SHOWN = 60


class ImageSetList(ResearcherRequiredMixin, ListView):
    model = ImageSet
    paginate_by = 50

    def get_queryset(self):
        return ImageSet.objects.select_related("created_by")


class ImageSetDetail(ResearcherRequiredMixin, DetailView):
    model = ImageSet

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        images = self.object.images.all()
        context["image_count"] = images.count()
        context["images"] = images.prefetch_related("annotations")[:IMAGES_SHOWN]
        context["annotated_count"] = images.filter(annotations__isnull=False).distinct().count()
        context["converted_count"] = images.exclude(conversion_note="").count()
        context["evaluation_form"] = EvaluationForm(initial={"size": 64})
        context["derived_sizes"] = sorted(
            DerivedImage.objects.filter(image__image_set=self.object).values_list("size", flat=True).distinct()
        )
        return context


class ImageSetImport(ResearcherRequiredMixin, FormView):
    form_class = ImageSetImportForm
    template_name = "imagesets/imageset_import.html"

    def form_valid(self, form):
        upload = default_storage.save(f"uploads/{uuid.uuid4().hex}.zip", form.cleaned_data["archive"])
        job = jobs.enqueue_import(
            source=upload,
            uploaded=True,
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            resize_mode=form.cleaned_data["resize_mode"],
            created_by=self.request.user,
            score_against=form.cleaned_data["score_against"],
        )
        return redirect(job)


class ImageFile(ResearcherRequiredMixin, View):
    """An image of a set as stored, or one of its derived versions (``size``), for researchers' pages."""

    def get(self, request, pk, size=None):
        if size is None:
            stored = get_object_or_404(Image, pk=pk).file
        else:
            stored = get_object_or_404(DerivedImage, image_id=pk, size=size).file
        return FileResponse(stored.open("rb"), content_type=_content_type(stored.name))


def _content_type(name):
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "bmp": "image/bmp"}.get(suffix, "image/tiff")
