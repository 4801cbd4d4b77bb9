"""The analysis of an experiment grid: its synthetic sets' metrics as heat maps over the grid's settings, and
their significance across those settings."""

import math

from django.views.generic import DetailView

from ratingsite.accounts.mixins import MayChangeMixin
from ratingsite.metrics.models import Evaluation, ImageScore, decode_number
from ratingsite.training.models import ExperimentGrid


class ExperimentGridMetrics(MayChangeMixin, DetailView):
    """The grid's synthetic sets as one table and heat map per metric value, and significance across settings:
    an analysis, so for those who may change the grid."""

    model = ExperimentGrid
    template_name = "analysis/experimentgrid_metrics.html"

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
