import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, FormView, ListView, View

from ratingsite.accounts.authentication import researcher_token_required
from ratingsite.accounts.mixins import ResearcherRequiredMixin, VisibleObjectsMixin
from ratingsite.core.forms import visible_choices
from ratingsite.core.views import VisibleChoicesMixin
from ratingsite.imagesets import jobs
from ratingsite.imagesets.forms import ImageSetImportForm, SyntheticSetUploadForm
from ratingsite.imagesets.models import DerivedImage, Image, ImageSet
from ratingsite.metrics.forms import EvaluationForm

IMAGES_SHOWN = 60


class ImageSetList(VisibleObjectsMixin, ListView):
    model = ImageSet
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("created_by")


class ImageSetDetail(VisibleObjectsMixin, DetailView):
    model = ImageSet

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        images = self.object.images.all()
        context["image_count"] = images.count()
        context["images"] = images.prefetch_related("annotations")[:IMAGES_SHOWN]
        context["annotated_count"] = images.filter(annotations__isnull=False).distinct().count()
        context["converted_count"] = images.exclude(conversion_note="").count()
        context["evaluation_form"] = visible_choices(EvaluationForm(initial={"size": 64}), self.request.user)
        context["derived_sizes"] = sorted(
            DerivedImage.objects.filter(image__image_set=self.object).values_list("size", flat=True).distinct()
        )
        return context


def queue_uploaded_archive(form, user, kind, provenance=None):
    """Store the form's uploaded zip where every worker can read it and queue its import."""
    upload = default_storage.save(f"uploads/{uuid.uuid4().hex}.zip", form.cleaned_data["archive"])
    return jobs.enqueue_import(
        source=upload,
        uploaded=True,
        name=form.cleaned_data["name"],
        kind=kind,
        resize_mode=form.cleaned_data["resize_mode"],
        created_by=user,
        score_against=form.cleaned_data["score_against"],
        provenance=provenance,
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


def _content_type(name):
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "bmp": "image/bmp"}.get(suffix, "image/tiff")
