from django.urls import path

from ratingsite.core.lazy import lazy_view

app_name = "analysis"
urlpatterns = [
    path(
        "grids/<int:pk>/",
        lazy_view("ratingsite.analysis.grid_views.ExperimentGridMetrics"),
        name="experimentgrid-metrics",
    ),
    path("studies/<int:pk>/", lazy_view("ratingsite.analysis.views.StudyAnalysis"), name="study-analysis"),
    path("studies/<int:pk>/report/", lazy_view("ratingsite.analysis.views.StudyAnalysisReport"), name="report"),
    path("studies/<int:pk>/scatter/", lazy_view("ratingsite.analysis.views.StudyAnalysisScatter"), name="scatter"),
    path(
        "studies/<int:pk>/scatter.csv",
        lazy_view("ratingsite.analysis.views.StudyAnalysisScatterData"),
        name="scatter-data",
    ),
    path(
        "studies/<int:pk>/plots/<slug:name>.<str:image_format>",
        lazy_view("ratingsite.analysis.views.StudyAnalysisPlot"),
        name="plot",
    ),
    path(
        "studies/<int:pk>/export/<str:filename>",
        lazy_view("ratingsite.analysis.views.StudyAnalysisExport"),
        name="export",
    ),
]
