import math

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, TemplateView, View

from ratingsite.accounts.mixins import MayChangeMixin, ResearcherRequiredMixin
from ratingsite.core.forms import errors_as_message, visible_choices
from ratingsite.imagesets.models import ImageSet
from ratingsite.metrics import jobs
from ratingsite.metrics.forms import EvaluationForm
from ratingsite.metrics.models import Evaluation, ImageScore, decode_number
from ratingsite.training.models import ExperimentGrid

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
        if evaluation.job is not None:
            evaluation.job.sync_with_queue()
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
        image_set = get_object_or_404(ImageSet, pk=pk)
        form = visible_choices(EvaluationForm(request.POST), request.user)
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


class ExperimentGridMetrics(MayChangeMixin, DetailView):
    """The grid's synthetic sets as one table and heat map per metric value, and significance across settings:
    an analysis, so for those who may change the grid."""

    model = ExperimentGrid
    template_name = "metrics/experimentgrid_metrics.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        grid = self.object
        evaluations = list(
            Evaluation.objects.filter(synthetic_set__generated_from__snapshot__run__grid=grid).select_related(
                "synthetic_set__generated_from__snapshot__run"
            )
        )
        context["heat_maps"] = heat_maps(grid, evaluations)
        context["significance"] = settings_significance(evaluations)
        context["evaluated"] = len(evaluations)
        context["expected"] = len(grid.subset_sizes) * len(grid.snapshot_epochs) * len(grid.learning_rates)
        return context


def heat_maps(grid, evaluations):
    """One table per (metric value, learning rate): rows subset sizes, columns snapshot epochs, cells shaded."""
    cells = {}
    for evaluation in evaluations:
        snapshot = evaluation.synthetic_set.generated_from.snapshot
        key = (snapshot.run.lr, snapshot.run.train_images, snapshot.epoch)
        for metric, values in evaluation.values.items():
            for name, value in values.items():
                cells.setdefault((metric, name), {})[key] = (decode_number(value), evaluation)
    maps = []
    for (metric, name), by_setting in cells.items():
        for lr in grid.learning_rates:
            found = [value for (cell_lr, _, _), (value, _) in by_setting.items() if cell_lr == lr]
            finite = [value for value in found if math.isfinite(value)]
            low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
            rows = []
            for size in grid.subset_sizes:
                row = []
                for epoch in grid.snapshot_epochs:
                    value, evaluation = by_setting.get((lr, size, epoch), (None, None))
                    row.append({"value": value, "evaluation": evaluation, "shade": _shade(value, low, high)})
                rows.append({"size": size, "cells": row})
            maps.append({"metric": metric, "name": name, "lr": lr, "rows": rows})
    return maps


def _shade(value, low, high):
    if value is None or not math.isfinite(value):
        return ""
    fraction = 0.5 if high == low else (value - low) / (high - low)
    return f"hsl(210, 65%, {92 - 50 * fraction:.0f}%)"


def settings_significance(evaluations):
    """Kruskal-Wallis and ANOVA of every per-image metric across subset sizes and across epochs."""
    import pandas as pd

    from evaluation.significance import significance_table

    snapshots = {evaluation.pk: evaluation.synthetic_set.generated_from.snapshot for evaluation in evaluations}
    rows = [
        {
            "training subset size": snapshots[evaluation_id].run.train_images,
            "epoch": snapshots[evaluation_id].epoch,
            **{column: decode_number(value) for column, value in values.items()},
        }
        for evaluation_id, values in ImageScore.objects.filter(evaluation__in=list(snapshots)).values_list(
            "evaluation_id", "values"
        )
    ]
    if not rows:
        return []
    table = pd.DataFrame(rows)
    factors = [factor for factor in ("training subset size", "epoch") if table[factor].nunique() > 1]
    metrics = [column for column in table.columns if column not in ("training subset size", "epoch")]
    return significance_table(table, metrics, factors).to_dict("records") if factors else []
