from django.urls import path

from ratingsite.metrics import views

app_name = "metrics"
urlpatterns = [
    path("help/", views.MetricsHelp.as_view(), name="metrics-help"),
    path("evaluations/<int:pk>/", views.EvaluationDetail.as_view(), name="evaluation-detail"),
    path("imagesets/<int:pk>/evaluate/", views.EvaluationCreate.as_view(), name="evaluation-create"),
]
