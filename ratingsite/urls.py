from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ratingsite.accounts.views import InvitationAccept
from ratingsite.imagesets.views import api_synthetic_set_upload
from ratingsite.site.views import Home

urlpatterns = [
    path("", Home.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/invitation/<str:token>/", InvitationAccept.as_view(), name="invitation-accept"),
    path("imagesets/", include("ratingsite.imagesets.urls")),
    path("jobs/", include("ratingsite.jobs.urls")),
    path("training/", include("ratingsite.training.urls")),
    path("metrics/", include("ratingsite.metrics.urls")),
    path("studies/", include("ratingsite.studies.urls")),
    path("analysis/", include("ratingsite.analysis.urls")),
    path("api/synthetic-sets/", api_synthetic_set_upload, name="api-synthetic-set-upload"),
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Fetal ultrasound GAN rating site"
