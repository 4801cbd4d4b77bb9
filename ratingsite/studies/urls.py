from django.urls import path

from ratingsite.core.views import CollaboratorsUpdate
from ratingsite.studies import rating_views, views
from ratingsite.studies.models import Study

app_name = "studies"
urlpatterns = [
    path("", views.StudyList.as_view(), name="study-list"),
    path("new/", views.StudyCreate.as_view(), name="study-create"),
    path("<int:pk>/", views.StudyDetail.as_view(), name="study-detail"),
    path("<int:pk>/edit/", views.StudyUpdate.as_view(), name="study-update"),
    path("<int:pk>/close/", views.StudyStateChange.as_view(action="close"), name="study-close"),
    path("<int:pk>/reopen/", views.StudyStateChange.as_view(action="reopen"), name="study-reopen"),
    path("<int:pk>/archive/", views.StudyStateChange.as_view(action="archive"), name="study-archive"),
    path("<int:pk>/delete/", views.StudyStateChange.as_view(action="delete"), name="study-delete"),
    path("<int:pk>/collaborators/", CollaboratorsUpdate.as_view(model=Study), name="study-collaborators"),
    path("<int:pk>/invite/", views.RaterInvite.as_view(), name="rater-invite"),
    path("<int:pk>/raters/<int:rater_pk>/link/", views.RaterLinkReissue.as_view(), name="rater-link-reissue"),
    path("<int:pk>/files/", views.StudyFilesRewrite.as_view(), name="study-files-rewrite"),
    path("<int:pk>/start/", rating_views.StudyStart.as_view(), name="study-start"),
    path("<int:pk>/practice/", rating_views.StudyPractice.as_view(), name="study-practice"),
    path("<int:pk>/rate/", rating_views.StudyRate.as_view(), name="study-rate"),
    path("images/<str:token>.png", rating_views.StudyItemImage.as_view(), name="studyitem-image"),
]
