from django.urls import path

from ratingsite.core.views import CollaboratorsUpdate
from ratingsite.training import views
from ratingsite.training.models import ExperimentGrid, TrainingRun

app_name = "training"
urlpatterns = [
    path("runs/", views.TrainingRunList.as_view(), name="trainingrun-list"),
    path("runs/new/", views.TrainingRunCreate.as_view(), name="trainingrun-create"),
    path("runs/<int:pk>/", views.TrainingRunDetail.as_view(), name="trainingrun-detail"),
    path(
        "runs/<int:pk>/collaborators/", CollaboratorsUpdate.as_view(model=TrainingRun), name="trainingrun-collaborators"
    ),
    path("runs/<int:pk>/resume/", views.TrainingRunResume.as_view(), name="trainingrun-resume"),
    path("runs/<int:pk>/losses.png", views.TrainingRunLossCurve.as_view(), name="trainingrun-loss-curve"),
    path("snapshots/<int:pk>/samples.png", views.SnapshotSampleGrid.as_view(), name="snapshot-sample-grid"),
    path("snapshots/<int:pk>/generate/", views.SnapshotGenerate.as_view(), name="snapshot-generate"),
    path("grids/", views.ExperimentGridList.as_view(), name="experimentgrid-list"),
    path("grids/new/", views.ExperimentGridCreate.as_view(), name="experimentgrid-create"),
    path("grids/<int:pk>/", views.ExperimentGridDetail.as_view(), name="experimentgrid-detail"),
    path(
        "grids/<int:pk>/collaborators/",
        CollaboratorsUpdate.as_view(model=ExperimentGrid),
        name="experimentgrid-collaborators",
    ),
]
