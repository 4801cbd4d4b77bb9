import uuid

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, View
from PIL import Image as PILImage

from ratingsite.accounts.authentication import researcher_token_required
from ratingsite.accounts.mixins import ResearcherRequiredMixin, VisibleObjectsMixin
from ratingsite.core.forms import visible_choices
from ratingsite.core.views import VisibleChoicesMixin
from ratingsite.imagesets import jobs
from ratingsite.imagesets.forms import ImageSetImportForm, ScoringForm, SyntheticSetUploadForm
from ratingsite.imagesets.importing import decode_gray
from ratingsite.imagesets.models import DerivedImage, Image, ImageSet
from synthesis.preprocessing import encode_png

IMAGES_PER_PAGE = 60
# Thumbnails are made this many pixels at most on a side and shown at half that, for sharp screens.
THUMBNAIL_PIXELS = 256
THUMBNAIL_SHOWN = 128


class ImageSetList(VisibleObjectsMixin, ListView):
    model = ImageSet
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("created_by")


class ImageSetDetail(VisibleObjectsMixin, DetailView):
    model = ImageSet

    def get_queryset(self):
        return super().get_queryset().select_related("generated_from__snapshot__run__grid")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        images = self.object.images.all()
        paginator = Paginator(images.prefetch_related("annotations"), IMAGES_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        for image in page:
            image.shown_width, image.shown_height = fit_within(image.width, image.height, THUMBNAIL_SHOWN)
        context.update(
            image_count=paginator.count,
            page_obj=page,
            paginator=paginator,
            is_paginated=page.has_other_pages(),
            annotated_count=images.filter(annotations__isnull=False).distinct().count(),
            converted_count=images.exclude(conversion_note="").count(),
            scoring_form=visible_choices(ScoringForm(initial={"size": 64}), self.request.user),
            derived_versions=DerivedImage.objects.filter(image__image_set=self.object)
            .values("size")
            .annotate(images=Count("pk"))
            .order_by("size"),
            generated_from=getattr(self.object, "generated_from", None),
        )
        return context


def fit_within(width, height, side):
    """The size of a ``width`` x ``height`` picture scaled to fit a ``side`` x ``side`` square, its shape kept."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def queue_uploaded_archive(form, user, kind, provenance=None):
    """Store the form's uploaded zip where every worker can read it and queue its import."""
    archive = form.cleaned_data["archive"]
    upload = default_storage.save(f"uploads/{uuid.uuid4().hex}.zip", archive)
    return jobs.enqueue_import(
        source=upload,
        uploaded=True,
        name=form.cleaned_data["name"],
        kind=kind,
        resize_mode=form.cleaned_data["resize_mode"],
        created_by=user,
        score_against=form.cleaned_data["score_against"],
        # The stored copy's name is a random one: the provenance names the file as it was uploaded.
        provenance={"source": archive.name, **(provenance or {})},
    )


class ImageSetImport(ResearcherRequiredMixin, VisibleChoicesMixin, FormView):
    form_class = ImageSetImportForm
    template_name = "imagesets/imageset_import.html"

    def form_valid(self, form):
        return redirect(queue_uploaded_archive(form, self.request.user, form.cleaned_data["kind"]))


class SyntheticSetUpload(ResearcherRequiredMixin, VisibleChoicesMixin, FormView):
    form_class = SyntheticSetUploadForm
    template_name = "imagesets/imageset_upload_synthetic.html"

    def form_valid(self, form):
        job = queue_uploaded_archive(form, self.request.user, ImageSet.Kind.SYNTHETIC, form.provenance())
        return redirect(job)


@require_POST
@researcher_token_required
def api_synthetic_set_upload(request):
    """REST: POST multipart (name, model_name, epoch, notes, resize_mode, score_against, archive) -> 202."""
    form = visible_choices(SyntheticSetUploadForm(request.POST, request.FILES), request.user)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    job = queue_uploaded_archive(form, request.user, ImageSet.Kind.SYNTHETIC, form.provenance())
    return JsonResponse(
        {"job": job.pk, "status": job.status, "url": request.build_absolute_uri(job.get_absolute_url())}, status=202
    )


class ImageFile(ResearcherRequiredMixin, View):
    """An image of a set as stored, or one of its derived versions (``size``), for researchers' pages."""

    def get(self, request, pk, size=None):
        visible_sets = ImageSet.visible_to(request.user)
        if size is None:
            stored = get_object_or_404(Image, pk=pk, image_set__in=visible_sets).file
        else:
            stored = get_object_or_404(DerivedImage, image_id=pk, size=size, image__image_set__in=visible_sets).file
        return FileResponse(stored.open("rb"), content_type=_content_type(stored.name))


class ImageThumbnail(ResearcherRequiredMixin, View):
    """An image of a set at most `THUMBNAIL_PIXELS` on a side, its aspect ratio kept, as 8-bit gray PNG: what
    the set's page shows (its derived versions are square, and a browser cannot show every stored format)."""

    def get(self, request, pk):
        image = get_object_or_404(Image, pk=pk, image_set__in=ImageSet.visible_to(request.user))
        with image.file.open("rb") as stored:
            gray, _ = decode_gray(image.original_name, stored.read())
        gray.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS), PILImage.Resampling.BILINEAR)
        response = HttpResponse(encode_png(gray), content_type="image/png")
        patch_cache_control(response, private=True, max_age=24 * 3600)  # an image's pixels never change
        return response


def _content_type(name):
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "bmp": "image/bmp"}.get(suffix, "image/tiff")
