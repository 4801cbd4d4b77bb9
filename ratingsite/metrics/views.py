from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import DetailView, TemplateView, View

from ratingsite.accounts.mixins import MayChangeMixin, ResearcherRequiredMixin
from ratingsite.core.forms import errors_as_message, visible_choices
from ratingsite.imagesets.forms import ScoringForm
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import sync_job_of
from ratingsite.metrics import jobs
from ratingsite.metrics.models import Evaluation, decode_number

MEMORISATION_PAIRS_SHOWN = 12


class EvaluationDetail(ResearcherRequiredMixin, DetailView):
    """An evaluation is seen by whoever may see its synthetic set."""

    model = Evaluation

    def get_queryset(self):
        return Evaluation.objects.filter(synthetic_set__in=ImageSet.visible_to(self.request.user))

    def get_context_data(self, **kwargs):
        # The registry imports every metric's libraries (torch, scipy, scikit-image), so only the pages that
        # describe metrics import it, not every page of the site through the URLconf.
        from evaluation.registry import METRICS

        context = super().get_context_data(**kwargs)
        evaluation = self.object
        sync_job_of(evaluation)
        context["metrics"] = [
            {
                "name": name,
                "description": METRICS[name].description,
                "version": evaluation.versions.get(name, ""),
                "values": [(key, decode_number(value)) for key, value in values.items()],
            }
            for name, values in evaluation.values.items()
        ]
        lbp_vector = evaluation.tables.get("lbp_vector", [])
        context["lbp_highlighted"] = [row for row in lbp_vector if row["highlighted"]]
        context["lbp_vector"] = lbp_vector
        pairs = sorted(
            evaluation.tables.get("memorisation_pairs", []), key=lambda row: decode_number(row["pixel_rms_distance"])
        )
        context["memorisation_pairs"] = pairs[:MEMORISATION_PAIRS_SHOWN]
        context["flagged_pairs"] = sum(1 for row in pairs if row["pixel_flag"] or row["feature_flag"])
        context["image_count"] = evaluation.image_scores.count()
        return context


class EvaluationCreate(MayChangeMixin, View):
    """Score a set against a chosen real reference set (again, if it was scored before)."""

    model = ImageSet

    def post(self, request, pk):
        image_set = self.checked_object
        form = visible_choices(ScoringForm(request.POST), request.user)
        if not form.is_valid():
            messages.error(request, errors_as_message(form))
            return redirect(image_set)
        evaluation = jobs.enqueue_evaluation(image_set, created_by=request.user, **form.cleaned_data)
        return redirect(evaluation.job)


class MetricsHelp(ResearcherRequiredMixin, TemplateView):
    """Researchers only: raters see nothing but their studies, and a page on what FID measures could colour
    how they rate."""

    template_name = "metrics/metrics_help.html"

    def get_context_data(self, **kwargs):
        from evaluation.registry import METRICS

        return super().get_context_data(metrics=METRICS.values(), **kwargs)
