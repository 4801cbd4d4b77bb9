from django.urls import path

from ratingsite.analysis import views

app_name = "analysis"
urlpatterns = [
    path("studies/<int:pk>/", views.StudyAnalysis.as_view(), name="study-analysis"),
    path("studies/<int:pk>/plots/<slug:name>.<str:image_format>", views.StudyAnalysisPlot.as_view(), name="plot"),
    path("studies/<int:pk>/export/<str:filename>", views.StudyAnalysisExport.as_view(), name="export"),
]
