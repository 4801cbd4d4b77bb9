from django.urls import path

from ratingsite.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.JobList.as_view(), name="job-list"),
    path("<int:pk>/", views.JobDetail.as_view(), name="job-detail"),
    path("<int:pk>/cancel/", views.JobCancel.as_view(), name="job-cancel"),
]
