import hashlib

from django.core.cache import cache
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.generic import View

from evaluation import plots
from ratingsite.accounts.mixins import MayChangeMixin
from ratingsite.analysis.forms import AnalysisFilterForm
from ratingsite.analysis.reports import (
    EXPORTS,
    PLANNING_EFFECT,
    ReportError,
    StudyReport,
    display_rows,
    slug,
    spreadsheet_csv,
)
from ratingsite.metrics.models import Evaluation, ImageScore
from ratingsite.studies.models import Rating, Study, StudySource

DOWNLOADS = {**EXPORTS, "report.zip": "application/zip"}
# Short enough that an edited rater profession shows within a minute.
REPORT_CACHE_SECONDS = 60


def cached_report(studies, rater_group, min_attention):
    """The `StudyReport`, reused until a rating or an evaluation of these studies changes."""
    ratings = Rating.objects.filter(item__study__in=studies).aggregate(count=Count("pk"), last=Max("submitted"))
    rated_sets = StudySource.objects.filter(study__in=studies).values("image_set")
    evaluations = list(
        Evaluation.objects.filter(synthetic_set__in=rated_sets).order_by("pk").values_list("pk", flat=True)
    )
    scores = ImageScore.objects.filter(evaluation__in=evaluations).aggregate(count=Count("pk"), last=Max("pk"))
    fingerprint = repr(([study.pk for study in studies], rater_group, min_attention, ratings, evaluations, scores))
    key = "analysis-report:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    report = cache.get(key)
    if report is None:
        report = StudyReport(studies, rater_group, min_attention=min_attention)
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


class StudyReportMixin(MayChangeMixin):
    """The study of the URL, the filter of the query string, and their report (or the reason there is none).
    Only those who may change a study analyse it, and pool it only with studies they may change too."""

    model = Study

    def report(self):
        self.study = self.checked_object
        self.form = AnalysisFilterForm(self.request.GET or None)
        self.form.fields["studies"].queryset = (
            Study.changeable_by(self.request.user).exclude(pk=self.study.pk).order_by("name")
        )
        rater_group, studies, min_attention = "all", [self.study], None
        self.planning_effect, self.planned_design = PLANNING_EFFECT, None
        if self.form.is_bound:
            if not self.form.is_valid():
                raise ReportError("; ".join(error for errors in self.form.errors.values() for error in errors))
            rater_group = self.form.cleaned_data["raters"]
            min_attention = self.form.cleaned_data["min_attention"]
            studies += list(self.form.cleaned_data["studies"])
            self.planning_effect = self.form.cleaned_data["effect"]
            self.planned_design = self.form.planned_design()
        return cached_report(studies, rater_group, min_attention)

    def analysis_query(self):
        """The query string of this analysis (its raters, pooled studies, threshold), without a plot's metric."""
        query = self.request.GET.copy()
        query.pop("metric", None)
        return query.urlencode()

    def render_page(self, template_name, make_context):
        """``template_name`` with what ``make_context(report)`` gives; without an analysis its reason (409), and
        without the part of it asked for (an unknown metric) that reason (404)."""
        context, status = {}, 200
        try:
            report = self.report()
            try:
                context.update(make_context(report))
            except ReportError as error:
                context["error"], status = str(error), 404
        except ReportError as error:
            context["error"], status = str(error), 409
        context.update(study=self.study, form=self.form, query=self.analysis_query())
        return render(self.request, template_name, context, status=status)


class StudyAnalysis(StudyReportMixin, View):
    def get(self, request, pk):
        return self.render_page(
            "analysis/study_analysis.html", lambda report: report.context(self.planning_effect, self.planned_design)
        )


class StudyAnalysisReport(StudyReportMixin, View):
    """The HTML report in the browser, as `StudyAnalysisExport` downloads it, with the site around it."""

    def get(self, request, pk):
        return self.render_page("analysis/study_report_detail.html", lambda report: report.context())


class StudyAnalysisScatter(StudyReportMixin, View):
    """One set-level metric against the mean quality: the scatter, the metric's set-level row and the points."""

    def get(self, request, pk):
        metric = request.GET.get("metric")

        def scatter(report):
            points = report.scatter_data(metric)
            return {
                "report": report,
                "metric": metric,
                "row": report.set_level_row(metric),
                "svg": report.inline_svg("scatter", metric),
                "columns": list(points.columns),
                "points": [list(point.values()) for point in display_rows(points)],
            }

        return self.render_page("analysis/study_scatter.html", scatter)


class StudyAnalysisScatterData(StudyReportMixin, View):
    def get(self, request, pk):
        metric = request.GET.get("metric")
        try:
            report = self.report()
            content = spreadsheet_csv(report.scatter_data(metric))
        except ReportError as error:
            raise Http404(str(error)) from error
        response = HttpResponse(content, content_type="text/csv")
        name = f"study-{pk}-{report.rater_group}-scatter-{slug(metric)}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class StudyAnalysisPlot(StudyReportMixin, View):
    def get(self, request, pk, name, image_format):
        if image_format not in plots.FORMATS:
            raise Http404(f"Plots come as {', '.join(plots.FORMATS)}.")
        try:
            content = self.report().plot_bytes(name, image_format, request.GET.get("metric"))
        except ReportError as error:
            raise Http404(str(error)) from error
        return HttpResponse(content, content_type=plots.FORMATS[image_format])


class StudyAnalysisExport(StudyReportMixin, View):
    def get(self, request, pk, filename):
        if filename not in DOWNLOADS:
            raise Http404(f"No export called {filename}.")
        try:
            report = self.report()
        except ReportError as error:
            raise Http404(str(error)) from error
        content = report.zip_bytes() if filename == "report.zip" else report.export(filename)
        response = HttpResponse(content, content_type=DOWNLOADS[filename])
        response["Content-Disposition"] = f'attachment; filename="study-{pk}-{report.rater_group}-{filename}"'
        return response
