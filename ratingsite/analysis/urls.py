from django.urls import path

from ratingsite.analysis import views

app_name = "analysis"
urlpatterns = [
    path("studies/<int:pk>/", views.StudyAnalysis.as_view(), name="study-analysis"),
    path("studies/<int:pk>/report/", views.StudyAnalysisReport.as_view(), name="report"),
    path("studies/<int:pk>/scatter/", views.StudyAnalysisScatter.as_view(), name="scatter"),
    path("studies/<int:pk>/scatter.csv", views.StudyAnalysisScatterData.as_view(), name="scatter-data"),
    path("studies/<int:pk>/plots/<slug:name>.<str:image_format>", views.StudyAnalysisPlot.as_view(), name="plot"),
    path("studies/<int:pk>/export/<str:filename>", views.StudyAnalysisExport.as_view(), name="export"),
]
